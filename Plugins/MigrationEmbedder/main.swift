import Foundation

// Usage: MigrationEmbedder OUTPUT.swift FILE.sql...
// Writes one Swift file with every migration's file name and text, in the order given.

let arguments = CommandLine.arguments.dropFirst()
guard let output = arguments.first else {
    FileHandle.standardError.write(Data("usage: MigrationEmbedder OUTPUT.swift FILE.sql...\n".utf8))
    exit(2)
}

let delimiter = String(repeating: "#", count: 8)
var source = "// Generated from migrations/*.sql by the EmbedMigrations plugin. Do not edit.\n\n"
source += "extension MigrationCatalog {\n    static let embeddedFiles: [(fileName: String, sql: String)] = [\n"
for path in arguments.dropFirst() {
    let url = URL(fileURLWithPath: path)
    let sql = try String(contentsOf: url, encoding: .utf8)
    guard !sql.contains("\"" + delimiter) else {
        FileHandle.standardError.write(Data("\(path) contains the raw-string delimiter\n".utf8))
        exit(1)
    }
    source += "        (\"\(url.lastPathComponent)\", \(delimiter)\"\"\"\n\(sql)\n\"\"\"\(delimiter)),\n"
}
source += "    ]\n}\n"
try source.write(to: URL(fileURLWithPath: output), atomically: true, encoding: .utf8)
