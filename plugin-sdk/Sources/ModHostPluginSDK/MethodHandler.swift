/// One registered method, type-erased: decodes, runs the author's closure, completes the call.
struct MethodHandler<P: Plugin>: Sendable {
    /// Returns `MH_OK` (completed) or `MH_PENDING` (a task completes it later).
    let invoke: @Sendable (P, CallContext) -> Int32
}
