extension Duration {
    /// The duration in seconds, as a `Double` (for timestamps, metrics and SQL intervals).
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
