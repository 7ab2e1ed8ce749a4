import DocketCore
import DocketProtocol
import Foundation

/// Prints a JSON object on one line, keys sorted, for scripts (`--json`).
func printJSON(_ object: [String: JSONValue]) throws {
    print(String(decoding: JSONWriter.bytes(.object(object)), as: UTF8.self))
}

/// A plain-text table with left-aligned columns, for humans.
struct Table {
    var header: [String]
    var rows: [[String]]

    var rendered: String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
