import DocketCore
import Foundation

/// Keyset pagination, the half every list shares: reading a request's cursor into the list's sort key, and turning
/// the rows fetched (one more than the limit, in scan order) into a page with its cursors.
enum Keyset {
    /// The sort key in `page`'s cursor (`after` or `before`), or nil without one; a cursor `parse` cannot read is a
    /// `VALIDATION_ERROR` on the field it came in.
    static func key<Key>(of page: PageRequest, list: String, _ parse: ([String]) -> Key?) throws(DocketError) -> Key? {
        guard let cursor = page.after ?? page.before else { return nil }
        guard let key = parse(cursor.parts) else {
            throw .validation(field: page.after != nil ? "after" : "before", "not a cursor returned by \(list)")
        }
        return key
    }

    /// The page of `rows`, read in scan order with a limit of `page.limit + 1`; `cursor` is an item's sort key.
    static func page<Item>(_ rows: [Item], _ page: PageRequest, cursor: (Item) -> Cursor) -> Page<Item> {
        var items = rows
        let more = items.count > page.limit
        if more { items.removeLast() }
        if page.before != nil { items.reverse() }
        // Going forward, "next" exists when more rows followed; going back, it is where we came from.
        let next = (page.before != nil || more) ? items.last.map(cursor) : nil
        let previous = (page.after != nil || (page.before != nil && more)) ? items.first.map(cursor) : nil
        return Page(items: items, nextCursor: next, previousCursor: previous)
    }
}
