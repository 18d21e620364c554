import CFFI
import ModHostJSON

/// A plain C function a plugin exports with a signature (`mh_export` in `modhost.h`), called
/// through libffi with JSON arguments and answering JSON.
///
/// The call interface (`ffi_cif`) is prepared once, in `init`. A call then locates the
/// arguments in the raw params (an array, or an object by `parameterNames`), converts each
/// exactly (refusing with `-32602` and the parameter's name otherwise), calls the function and
/// encodes its result. Arguments live in stack scratch space for the duration of the call; the
/// only heap allocation of an all-integer call is the returned JSON.
///
/// ```swift
/// let add = try TypedExport(name: "add", function: pointer, signature: "i64(i64,i64)",
///                           parameterNames: ["a", "b"], release: nil)
/// try add.call(params: ...)  // "[2,3]" or "{\"a\":2,\"b\":3}" → "5"
/// ```
///
/// - Important: Thread safety: `call` may run on any thread, and on several at once: the
///   prepared interface is only read, per-call state lives on the caller's stack. Whether the C
///   function itself tolerates that is the plugin's business: the host calls the exports of one
///   module one at a time with its other entries, unless it set `MH_FLAG_CONCURRENT`, as
///   `modhost.h` promises (the module's mailbox decides).
public final class TypedExport: @unchecked Sendable {
    /// The export's name, as the plugin declared it (`[A-Za-z_][A-Za-z0-9_]*`, checked by the loader).
    public let name: String
    /// The signature as the plugin wrote it, e.g. `"i64(i64, i64)"`.
    public let signatureText: String
    /// The names arguments may be passed by in a JSON object, one per parameter; nil when the
    /// export takes positional arguments only.
    public var parameterNames: [String]? { names }
    /// Whether the C function takes the module instance as an extra first parameter
    /// (`MH_EXPORT_INSTANCE`, ABI 1.2), not written in the signature.
    public let takesInstance: Bool

    let signature: FFISignature
    /// `signature.result`, read on every call.
    let resultType: FFIType
    let names: [String]?
    /// How refusals name each parameter: `"a"` by its declared name, or `#2` by its position.
    let labels: [String]
    /// The number of parameters (not C parameters: `bytes` is one here).
    let parameterCount: Int
    /// The parameter types, read on every call: kept out of reference-counted storage.
    let parameterTypes: UnsafeMutableBufferPointer<FFIType>
    /// The declared names' UTF-8, one after the other, and where each begins (one more entry
    /// for the end): plain object keys are matched against these bytes, without decoding.
    let nameBytes: UnsafeMutableBufferPointer<UInt8>
    let nameOffsets: UnsafeMutableBufferPointer<Int>
    private let function: @convention(c) () -> Void
    private let release: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?
    private let cif: UnsafeMutablePointer<ffi_cif>
    /// The parameter types `cif` points at: allocated for as long as `cif` lives.
    private let argumentTypes: UnsafeMutablePointer<UnsafeMutablePointer<ffi_type>?>
    /// C parameters (`bytes` takes two, the instance one).
    private let cParameterCount: Int
    /// The C parameter of the first signature parameter: 1 after the instance, else 0.
    private let firstArgumentSlot: Int
    /// Parameters of type `str`: each needs one arena byte more than its JSON text, for the NUL.
    private let stringParameterCount: Int
    /// Whether any parameter is `str` or `bytes`, which need arena space.
    private let needsArena: Bool

    /// Parses the signature and prepares the libffi call interface.
    ///
    /// - Parameters:
    ///   - name: the export's name, used in messages.
    ///   - function: the C function; it must have exactly the C signature `signature` describes.
    ///   - signature: `"<result>(<param>,...)"`, see `FFISignature`.
    ///   - parameterNames: one distinct name per parameter, or nil for positional arguments only.
    ///   - release: called with each non-NULL `str` result once it is copied; nil when results
    ///     are static or thread-local. Ignored for other result types.
    ///   - takesInstance: the function's first C parameter is `void *instance`, before those of
    ///     the signature; `call` passes the instance there.
    /// - Throws: `FFISignatureError` for a malformed signature; `TypedExportError` when the names
    ///   do not fit the parameters or libffi refuses the interface.
    public init(
        name: String, function: UnsafeRawPointer, signature: String, parameterNames: [String]?,
        release: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?, takesInstance: Bool = false
    ) throws {
        let parsed = try FFISignature(parsing: signature)
        let parameters = parsed.parameters
        if let parameterNames {
            guard parameterNames.count == parameters.count else {
                throw TypedExportError(
                    "param_names lists \(parameterNames.count) name\(parameterNames.count == 1 ? "" : "s") "
                        + "for \(parameters.count) parameter\(parameters.count == 1 ? "" : "s")")
            }
            var seen = Set<String>()
            for parameterName in parameterNames where !seen.insert(parameterName).inserted {
                throw TypedExportError("param_names repeats \"\(parameterName)\"")
            }
        }
        let cCount = parsed.cParameterCount + (takesInstance ? 1 : 0)
        let cif = UnsafeMutablePointer<ffi_cif>.allocate(capacity: 1)
        let argumentTypes = UnsafeMutablePointer<UnsafeMutablePointer<ffi_type>?>.allocate(capacity: max(cCount, 1))
        var next = 0
        if takesInstance {
            argumentTypes[0] = mh_ffi_type_pointer()
            next = 1
        }
        for type in parameters.flatMap(\.parameterTypes) {
            argumentTypes[next] = type
            next += 1
        }
        let status = ffi_prep_cif(cif, FFI_DEFAULT_ABI, UInt32(cCount), parsed.result.resultType, argumentTypes)
        guard status == FFI_OK else {
            cif.deallocate()
            argumentTypes.deallocate()
            throw TypedExportError("libffi cannot prepare a call interface for it (ffi_prep_cif status \(status.rawValue))")
        }
        self.name = name
        self.signatureText = signature
        self.signature = parsed
        self.resultType = parsed.result
        self.names = parameterNames
        self.parameterCount = parameters.count
        self.parameterTypes = .allocate(capacity: parameters.count)
        _ = parameterTypes.initialize(from: parameters)
        let utf8 = parameterNames?.map { Array($0.utf8) } ?? []
        self.nameBytes = .allocate(capacity: utf8.reduce(0) { $0 + $1.count })
        self.nameOffsets = .allocate(capacity: utf8.count + 1)
        var offset = 0
        for (index, name) in utf8.enumerated() {
            nameOffsets[index] = offset
            _ = UnsafeMutableBufferPointer(rebasing: nameBytes[offset..<offset + name.count]).initialize(from: name)
            offset += name.count
        }
        nameOffsets[utf8.count] = offset
        self.labels = parameters.indices.map { index in
            parameterNames.map { String(decoding: JSONString.quoted($0[index]), as: UTF8.self) } ?? "#\(index + 1)"
        }
        self.function = unsafeBitCast(function, to: (@convention(c) () -> Void).self)
        self.release = release
        self.cif = cif
        self.argumentTypes = argumentTypes
        self.cParameterCount = cCount
        self.takesInstance = takesInstance
        self.firstArgumentSlot = takesInstance ? 1 : 0
        self.stringParameterCount = parameters.count { $0 == .str }
        self.needsArena = parameters.contains { $0 == .str || $0 == .bytes }
    }

    deinit {
        cif.deallocate()
        argumentTypes.deallocate()
        parameterTypes.deallocate()
        nameBytes.deallocate()
        nameOffsets.deallocate()
    }

    /// Calls the function with the arguments in `params` and returns its result as JSON text.
    ///
    /// - Parameters:
    ///   - params: the raw JSON of the request's `params`: an array (positional) or an object
    ///     (by `parameterNames`); nil when the request had none, meaning no arguments.
    ///   - instance: the module instance, passed first when `takesInstance`; ignored otherwise.
    /// - Returns: the result as JSON: `null` for void, `true`/`false`, a number, a string, or
    ///   `null` for a NULL `str`.
    /// - Throws: `-32602` (`RPCError.invalidParams`) naming the parameter when an argument is
    ///   missing, unknown, of the wrong type, out of range or malformed, or the arity is wrong:
    ///   the function is then not called. `-32603` when the result is a non-finite float or a
    ///   `str` that is not UTF-8 (a `str` result is released all the same).
    public func call(params: UnsafeBufferPointer<UInt8>?, instance: UnsafeMutableRawPointer? = nil) throws(RPCError) -> [UInt8] {
        guard parameterCount > 0 || takesInstance else {
            try locateArguments(params, into: nil)
            return try result(invoke(arguments: nil))
        }
        return try invokeWithArguments(params, instance: instance)
    }

    /// Encodes what the function returned; for `str`, copies the string and releases it.
    ///
    /// - Important: Call it while the arguments are alive: a `str` result may be a `str`
    ///   argument handed back (borrowed "until the function returns to the host").
    @inline(__always)
    private func result(_ returned: UInt64) throws(RPCError) -> [UInt8] {
        guard resultType == .str else { return try FFIResultEncoder.encode(resultType, returned, export: name) }
        let string = UnsafePointer<UInt8>(bitPattern: UInt(returned))
        defer {
            if let string, let release { release(UnsafeMutableRawPointer(mutating: string)) }
        }
        return try FFIResultEncoder.string(string, export: name)
    }

    /// Converts the arguments into scratch space on the stack, then calls the function with
    /// libffi's argument array (one pointer per C parameter) and encodes its result while that
    /// space is alive.
    private func invokeWithArguments(_ params: UnsafeBufferPointer<UInt8>?, instance: UnsafeMutableRawPointer?) throws(RPCError) -> [UInt8] {
        let count = parameterCount
        let stride = FFIValueDecoder.slotStride
        // Layout: C argument slots, libffi's pointers to them, each parameter's value range, arena.
        let slotsBytes = stride * cParameterCount
        let pointersBytes = MemoryLayout<UnsafeMutableRawPointer?>.stride * cParameterCount
        let rangesBytes = MemoryLayout<Int>.stride * 2 * count
        let arenaBytes = needsArena ? (params?.count ?? 0) + stringParameterCount : 0
        return try withUnsafeTemporaryAllocation(
            byteCount: slotsBytes + pointersBytes + rangesBytes + arenaBytes, alignment: 16
        ) { (scratch) throws(RPCError) -> [UInt8] in
            let slots = scratch.baseAddress!
            let pointers = (slots + slotsBytes).bindMemory(to: UnsafeMutableRawPointer?.self, capacity: cParameterCount)
            let ranges = (slots + slotsBytes + pointersBytes).bindMemory(to: Int.self, capacity: 2 * count)
            let arena = (slots + slotsBytes + pointersBytes + rangesBytes).bindMemory(to: UInt8.self, capacity: arenaBytes)
            try locateArguments(params, into: ranges)
            if takesInstance { slots.storeBytes(of: instance, as: UnsafeMutableRawPointer?.self) }
            // With parameters, locateArguments refused a missing params.
            let json = params ?? UnsafeBufferPointer(start: nil, count: 0)
            var used = 0
            var slot = firstArgumentSlot
            for index in 0..<count {
                let type = parameterTypes[index]
                let value = UnsafeBufferPointer(rebasing: json[ranges[2 * index]..<ranges[2 * index + 1]])
                do throws(FFIValueDecoder.Refusal) {
                    try FFIValueDecoder.decode(type, value, into: slots + stride * slot, arena: arena, used: &used)
                } catch {
                    throw .invalidParams("\(labels[index]): \(error.message)")
                }
                slot += type.cParameterCount
            }
            for index in 0..<cParameterCount { pointers[index] = slots + stride * index }
            return try result(invoke(arguments: pointers))
        }
    }

    /// The one `ffi_call`. The result lands in an `ffi_arg`-sized buffer (libffi widens narrower
    /// integers to fill it; a float takes its first 4 bytes), returned as its 64 bits.
    @inline(__always)
    private func invoke(arguments: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> UInt64 {
        var returned = ffi_arg(0)
        ffi_call(cif, function, &returned, arguments)
        return UInt64(returned)
    }
}
