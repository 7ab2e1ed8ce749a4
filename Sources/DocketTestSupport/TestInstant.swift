/// A clock of the test's own, for the pure state machines: instants are whole milliseconds the test moves by hand.
public struct TestInstant: InstantProtocol {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    public func advanced(by duration: Duration) -> TestInstant {
        TestInstant(milliseconds: milliseconds + duration.components.seconds * 1000
                    + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    public func duration(to other: TestInstant) -> Duration { .milliseconds(other.milliseconds - milliseconds) }

    public static func < (a: TestInstant, b: TestInstant) -> Bool { a.milliseconds < b.milliseconds }
}
