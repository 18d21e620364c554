/// Why a hot swap or rollback did not happen. The old instance keeps serving; the caller gets
/// `-32002` with this reason.
struct SwapFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
