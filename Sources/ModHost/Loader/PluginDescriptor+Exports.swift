import CModHost
import ModHostSupport

/// Reading a descriptor's typed exports: the frozen 1.1 array (`exports`, entries of exactly
/// `sizeof(mh_export)`) and the growable 1.2 list (`exports_v2`, pointers to `mh_export_v2`
/// entries that each carry their own size). Each entry is read through `VersionedStruct`;
/// a bad one fails the load naming the module, the entry, the field and both ABI versions.
extension PluginDescriptor {
    /// The most entries either list may have.
    static let maximumExports = 4096

    /// One export as both lists describe it, after its entry was read and checked.
    private struct Entry {
        let name: String
        let function: UnsafeRawPointer
        let signature: String
        let parameterNames: [String]?
        let release: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?
        let takesInstance: Bool
    }

    /// The fields of an export entry after the header, with the size that covers each.
    private static let exportFields: [(name: String, end: Int)] = [
        ("name", VersionedStruct.end(of: \mh_export_v2.name)), ("fn", VersionedStruct.end(of: \mh_export_v2.fn)),
        ("signature", VersionedStruct.end(of: \mh_export_v2.signature)),
        ("param_names", VersionedStruct.end(of: \mh_export_v2.param_names)),
        ("release", VersionedStruct.end(of: \mh_export_v2.release)), ("flags", VersionedStruct.end(of: \mh_export_v2.flags)),
    ]

    /// Reads both export lists of a descriptor (each only when `struct_size` covers it) and
    /// prepares every call interface; names are unique across methods and both lists.
    static func readExports(_ plugin: mh_plugin, header: VersionedStruct.Header, module id: String, methods: [String: MethodName])
        throws(LoadError) -> ([String: TypedExport], [String])
    {
        var entries: [Entry] = []
        if VersionedStruct.covers(\mh_plugin.export_count, size: header.size), plugin.export_count > 0 {
            guard let list = plugin.exports else {
                throw .badDescriptor("module \(id): export_count is \(plugin.export_count) but exports is NULL")
            }
            try checkCount(plugin.export_count, "export_count", module: id)
            for index in 0..<plugin.export_count {
                // The array's stride is the frozen sizeof(mh_export): reading entry `index` stays
                // inside the array whatever its struct_size says; a wrong one is refused.
                let entryHeader = VersionedStruct.header(at: list + index)
                let label = "exports[\(index)]"
                try checkHeader(entryHeader, label, structName: "mh_export", module: id, plugin: header,
                                exactSize: MemoryLayout<mh_export>.size)
                let entry = (list + index).pointee
                let wide = mh_export_v2(
                    abi_version: entry.abi_version, struct_size: entry.struct_size, name: entry.name, fn: entry.fn,
                    signature: entry.signature, param_names: entry.param_names, release: entry.release, flags: 0)
                entries.append(try read(wide, label, module: id))
            }
        }
        if VersionedStruct.covers(\mh_plugin.exports_v2_count, size: header.size), plugin.exports_v2_count > 0 {
            guard let list = plugin.exports_v2 else {
                throw .badDescriptor("module \(id): exports_v2_count is \(plugin.exports_v2_count) but exports_v2 is NULL")
            }
            try checkCount(plugin.exports_v2_count, "exports_v2_count", module: id)
            for index in 0..<plugin.exports_v2_count {
                let label = "exports_v2[\(index)]"
                guard let pointer = list[index] else { throw .badDescriptor("module \(id): \(label) is NULL") }
                let entryHeader = VersionedStruct.header(at: pointer)
                try checkHeader(entryHeader, label, structName: "mh_export_v2", module: id, plugin: header, exactSize: nil)
                entries.append(try read(VersionedStruct.copy(mh_export_v2.self, from: pointer, size: entryHeader.size), label, module: id))
            }
        }

        var exports: [String: TypedExport] = [:]
        var names: [String] = []
        for entry in entries {
            let where_ = "module \(id): export \(entry.name)"
            guard methods[entry.name] == nil, exports[entry.name] == nil else {
                throw .badDescriptor("\(where_): the name is already used by a method or another export")
            }
            do {
                exports[entry.name] = try TypedExport(
                    name: entry.name, function: entry.function, signature: entry.signature, parameterNames: entry.parameterNames,
                    release: entry.release, takesInstance: entry.takesInstance)
            } catch {
                throw .badDescriptor("\(where_): signature \"\(entry.signature)\": \(error)")
            }
            names.append(entry.name)
        }
        return (exports, names)
    }

    private static func checkCount(_ count: Int, _ field: String, module id: String) throws(LoadError) {
        guard count <= maximumExports else {
            throw .badDescriptor("module \(id): \(field) \(count) is over the limit of \(maximumExports) exports")
        }
    }

    /// Refuses an entry of another major, one too small for its fields, or (for the frozen
    /// array) one whose size is not exactly the array's stride.
    private static func checkHeader(_ entry: VersionedStruct.Header, _ label: String, structName: String, module id: String,
                                    plugin: VersionedStruct.Header, exactSize: Int?) throws(LoadError) {
        guard entry.abiVersion >> 16 == MH_ABI_VERSION >> 16 else {
            throw .badDescriptor("module \(id): \(label): \(structName) abi_version \(entry.versionText) is not of this "
                + "host's major (the plugin says ABI \(plugin.versionText), this host speaks ABI \(hostVersion))")
        }
        if let missing = exportFields.first(where: { $0.end > entry.size && $0.end <= (exactSize ?? .max) }) {
            throw .structTooSmall(StructTooSmall(
                what: "module \(id): \(label)", structName: structName, size: entry.size, field: missing.name, needed: missing.end,
                rule: exactSize.map { "the exports array holds entries of exactly \($0) bytes" }
                    ?? "an mh_export_v2 has the \(MemoryLayout<mh_export_v2>.size) bytes of ABI 1.2",
                pluginABI: plugin.versionText, hostABI: hostVersion))
        }
        if let exactSize, entry.size != exactSize {
            throw .badDescriptor("module \(id): \(label) (mh_export) has struct_size \(entry.size), not \(exactSize): the exports "
                + "array is read with the frozen stride of sizeof(mh_export) (the plugin says ABI \(plugin.versionText), this host "
                + "speaks ABI \(hostVersion)); list entries that grow in exports_v2 (mh_export_v2)")
        }
    }

    /// Checks the fields of one entry (its size already checked) and names it.
    private static func read(_ entry: mh_export_v2, _ label: String, module id: String) throws(LoadError) -> Entry {
        guard let namePointer = entry.name else { throw .badDescriptor("module \(id): \(label) has no name") }
        let name = String(cString: namePointer)
        let where_ = "module \(id): export \(name)"
        guard isValidExportName(name) else { throw .badDescriptor("\(where_): the name must match [A-Za-z_][A-Za-z0-9_]*") }
        guard let function = entry.fn else { throw .badDescriptor("\(where_): fn is NULL") }
        guard let signature = entry.signature.map({ String(cString: $0) }) else {
            throw .badDescriptor("\(where_): signature is NULL")
        }
        return Entry(
            name: name, function: unsafeBitCast(function, to: UnsafeRawPointer.self), signature: signature,
            parameterNames: entry.param_names.map { strings($0) }, release: entry.release,
            takesInstance: entry.flags & UInt64(MH_EXPORT_INSTANCE) != 0)
    }

    private static func isValidExportName(_ name: String) -> Bool {
        guard let first = name.utf8.first, first == UInt8(ascii: "_") || (first | 0x20 >= UInt8(ascii: "a") && first | 0x20 <= UInt8(ascii: "z")) else {
            return false
        }
        return name.utf8.allSatisfy { byte in
            byte == UInt8(ascii: "_") || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
        }
    }
}
