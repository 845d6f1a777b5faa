/// "30 s", "0.5 s": a duration in seconds as the engine's messages write it.
package func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
}
