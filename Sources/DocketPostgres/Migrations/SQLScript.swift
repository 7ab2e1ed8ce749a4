/// Splits a SQL file into its statements, the way psql does, for a driver that runs one statement per query.
///
/// Understands `--` and nested `/* */` comments, single-quoted strings (with `''` and, for `E'…'`, backslash
/// escapes), double-quoted identifiers and dollar quoting (`$$…$$`, `$tag$…$tag$`). Comments between statements are
/// dropped; empty statements are skipped.
public enum SQLScript {
    public static func statements(in sql: String) -> [String] {
        let chars = Array(sql.unicodeScalars)
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var index = 0

        func flush() {
            let text = String(current).trimmingWhitespace()
            if !text.isEmpty { statements.append(text) }
            current = String.UnicodeScalarView()
        }
        func copy(_ range: Range<Int>) { current.append(contentsOf: chars[range]) }

        while index < chars.count {
            let char = chars[index]
            let next: Unicode.Scalar? = index + 1 < chars.count ? chars[index + 1] : nil
            switch char {
            case "-" where next == "-":
                while index < chars.count, chars[index] != "\n" { index += 1 }
            case "/" where next == "*":
                var depth = 0
                repeat {
                    if chars[index] == "/", index + 1 < chars.count, chars[index + 1] == "*" {
                        depth += 1; index += 2
                    } else if chars[index] == "*", index + 1 < chars.count, chars[index + 1] == "/" {
                        depth -= 1; index += 2
                    } else {
                        index += 1
                    }
                } while depth > 0 && index < chars.count
                current.append(" ")
            case "'":
                let escapes = index > 0 && (chars[index - 1] == "E" || chars[index - 1] == "e")
                let end = endOfQuoted(chars, from: index, quote: "'", backslashEscapes: escapes)
                copy(index..<end); index = end
            case "\"":
                let end = endOfQuoted(chars, from: index, quote: "\"", backslashEscapes: false)
                copy(index..<end); index = end
            case "$":
                if let tagEnd = dollarTagEnd(chars, from: index) {
                    let tag = Array(chars[index..<tagEnd])
                    var end = tagEnd
                    while end < chars.count, !chars[end...].starts(with: tag) { end += 1 }
                    end = min(chars.count, end + tag.count)
                    copy(index..<end); index = end
                } else {
                    current.append(char); index += 1
                }
            case ";":
                flush(); index += 1
            default:
                current.append(char); index += 1
            }
        }
        flush()
        return statements
    }

    /// The index just past the closing quote of a quoted run starting at `start`.
    private static func endOfQuoted(
        _ chars: [Unicode.Scalar], from start: Int, quote: Unicode.Scalar, backslashEscapes: Bool
    ) -> Int {
        var index = start + 1
        while index < chars.count {
            if backslashEscapes, chars[index] == "\\" { index += 2; continue }
            if chars[index] == quote {
                if index + 1 < chars.count, chars[index + 1] == quote { index += 2; continue }
                return index + 1
            }
            index += 1
        }
        return chars.count
    }

    /// The index just past a dollar-quote opening tag (`$$` or `$tag$`) at `start`, if one starts there.
    private static func dollarTagEnd(_ chars: [Unicode.Scalar], from start: Int) -> Int? {
        if start > 0, chars[start - 1].properties.isAlphabetic || chars[start - 1] == "_"
            || ("0"..."9").contains(chars[start - 1]) {
            return nil  // part of an identifier such as a$b
        }
        var index = start + 1
        while index < chars.count {
            let char = chars[index]
            if char == "$" { return index + 1 }
            let isTagChar = char.properties.isAlphabetic || char == "_" || (index > start + 1 && ("0"..."9").contains(char))
            guard isTagChar else { return nil }
            index += 1
        }
        return nil
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}
