/// A PostgreSQL advisory lock in its two-integer form: an application namespace and a key within it.
public struct AdvisoryLockKey: Sendable, Hashable {
    /// Docket's namespace: the bytes "dokt" read as an integer, so other applications' locks never collide.
    public static let docketNamespace: Int32 = 0x646F_6B74

    public var namespace: Int32
    public var key: Int32

    public init(namespace: Int32, key: Int32) {
        self.namespace = namespace
        self.key = key
    }
}
