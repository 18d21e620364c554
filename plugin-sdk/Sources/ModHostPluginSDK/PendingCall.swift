/// A call handed to another thread to complete. modhost.h: a call returned as `MH_PENDING`
/// may be completed from any thread, exactly once.
struct PendingCall: @unchecked Sendable {
    let call: OpaquePointer
}
