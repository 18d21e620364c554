import Foundation
import ModHostTestKit
import Testing

@testable import ModHost

/// Reading the `--config` file with the JSON toolkit: sections handed on as written, errors that
/// name the file and what is wrong.
@Suite struct HostConfigurationTests {
    private func configs(_ text: String) throws -> [String: String] {
        let path = "\(try TemporaryDirectory.make(prefix: "modhost-config"))/modhost.json"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return try HostConfiguration.moduleConfigs(fromFile: path).mapValues { String(decoding: $0, as: UTF8.self) }
    }

    private func refusal(_ text: String) throws -> String {
        do {
            let read = try configs(text)
            return "accepted: \(read)"
        } catch let error as ConfigurationError {
            return "\(error)"
        }
    }

    /// Each section reaches its module as written (compacted when it spans lines): integers stay exact.
    @Test func sectionsAreHandedOnAsWritten() throws {
        let read = try configs("{\n  \"health\": {\"cooldownCapMs\": 10800000, \"big\": 18446744073709551615},\n  \"x\": {\n    \"s\": \"a b\", \"f\": 1.0\n  }\n}\n")
        #expect(read == ["health": #"{"cooldownCapMs": 10800000, "big": 18446744073709551615}"#, "x": #"{"s":"a b","f":1.0}"#])
        #expect(try configs("{}") == [:])
    }

    /// A JSON error names the line and column an editor shows: lines from 1, columns in
    /// characters (not bytes), the end of input at the end.
    @Test func invalidJSONNamesTheLineAndColumn() throws {
        #expect(try refusal("{\n  \"health\": {\n    \"a\": 1,\n  }\n}\n").contains("is not valid JSON: line 4, column 3: unexpected '}'"))
        #expect(try refusal("{\r\n \"é\": x}").contains("line 2, column 7: unexpected 'x'"))
        #expect(try refusal("{\"a\": {}\n").contains("line 2, column 1: unexpected end of input"))
    }

    /// Sections for modules that are not loaded are found (the host warns about them).
    @Test func unusedSectionsAreTheOnesNoLoadedModuleHas() {
        let configs = ["health": [UInt8](), "helth": [], "token": []]
        #expect(HostConfiguration.unusedSections(configs, loaded: ["health", "token"]) == ["helth"])
        #expect(HostConfiguration.unusedSections(configs, loaded: []) == ["health", "helth", "token"])
    }

    /// An unreadable file names the system's reason; Foundation's error text never shows.
    @Test func anUnreadableFileNamesTheReason() throws {
        let directory = try TemporaryDirectory.make(prefix: "modhost-config")
        for (path, reason) in [("\(directory)/missing.json", "No such file or directory"), (directory, "it is a directory")] {
            do {
                _ = try HostConfiguration.moduleConfigs(fromFile: path)
                Issue.record("\(path) must be refused")
            } catch {
                #expect("\(error)" == "cannot read config file \(path): \(reason)" || "\(error)".hasPrefix("cannot read config file \(path): \(reason);"),
                        "\(error)")
                #expect(!"\(error)".contains("NSCocoaErrorDomain"))
            }
        }
    }

    @Test func badFilesAreRefusedNamingWhatIsWrong() throws {
        #expect(try refusal(#"{"health": {"a": 1},}"#).hasSuffix(#"is not valid JSON: line 1, column 21: unexpected '}' at byte 20"#))
        #expect(try refusal("[1]").hasSuffix("must hold a JSON object of module sections"))
        #expect(try refusal(#"{"health": [1]}"#).hasSuffix(#"section "health" must be a JSON object"#))
        #expect(try refusal(#"{"health": {"a": 1}, "health": {"b": 2}}"#).hasSuffix(#"section "health" is given twice; merge them into one"#))
        #expect(try refusal(#"{"he\nalth": 1}"#).hasSuffix(#"section "he\nalth" must be a JSON object"#))
        let deep = "{\"x\": " + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "}"
        #expect(try refusal(deep).contains("nesting deeper than 512 levels (the limit)"))
    }

    // MARK: The host section

    private func hostModules(_ text: String, in directory: String? = nil) throws -> (ConfigFile, String) {
        let directory = try directory ?? TemporaryDirectory.make(prefix: "modhost-config")
        let path = "\(directory)/modhost.json"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return (try HostConfiguration.readConfig(fromFile: path), directory)
    }

    private func hostRefusal(_ text: String) throws -> String {
        do {
            return "accepted: \(try hostModules(text).0.hostModules)"
        } catch let error as ConfigurationError {
            return "\(error)"
        }
    }

    /// `host` is not a module's section; its entries keep the file's order and read relative
    /// paths from the config file's directory.
    @Test func theHostSectionIsReadInOrderAndKeptFromTheModuleSections() throws {
        let directory = try TemporaryDirectory.make(prefix: "modhost-config")
        for name in ["b.so", "a.so"] { _ = FileManager.default.createFile(atPath: "\(directory)/\(name)", contents: Data()) }
        let (file, _) = try hostModules(#"{"probe": {"x": 1}, "host": {"modules": {"zeta": {"path": "b.so", "mode": "shadow", "keepSamples": 3}, "alpha": {"path": "\#(directory)/a.so"}}}}"#, in: directory)
        #expect(Array(file.moduleConfigs.keys) == ["probe"])
        #expect(file.hostModules.map(\.id) == ["zeta", "alpha"])
        #expect(file.hostModules.map(\.mode) == ["shadow", "serve"])
        #expect(file.hostModules[0].path == "\(PathTrust.lexicallyNormalized(directory))/b.so")
        #expect(file.hostModules[1].path == "\(directory)/a.so")
        let params = try JSONValue(parsing: file.hostModules[0].swapParams)
        #expect(params == ["id": "zeta", "path": .string(file.hostModules[0].path), "mode": "shadow", "keepSamples": 3])
        #expect(try JSONValue(parsing: file.hostModules[1].swapParams)["mode"] == .null, "serve is a plain swap")
    }

    @Test func aBadHostSectionNamesTheKey() throws {
        let directory = try TemporaryDirectory.make(prefix: "modhost-config")
        let so = "\(directory)/p.so"
        _ = FileManager.default.createFile(atPath: so, contents: Data())
        let cases: [(String, String)] = [
            (#"{"host": []}"#, #"section "host" must be a JSON object"#),
            (#"{"host": {"mods": {}}}"#, #"unknown key "host.mods""#),
            (#"{"host": {"modules": []}}"#, #""host.modules" must be an object of module ids"#),
            (#"{"host": {"modules": {"Probe": {"path": "\#(so)"}}}}"#, #"key "Probe" is not a module id"#),
            (#"{"host": {"modules": {"p": {"path": "\#(so)"}, "p": {"path": "\#(so)"}}}}"#, #""host.modules.p" is given twice"#),
            (#"{"host": {"modules": {"p": "\#(so)"}}}"#, #""host.modules.p" must be an object"#),
            (#"{"host": {"modules": {"p": {"mode": "serve"}}}}"#, #""host.modules.p" needs "path""#),
            (#"{"host": {"modules": {"p": {"path": "\#(directory)"}}}}"#, #"is not a regular file"#),
            (#"{"host": {"modules": {"p": {"path": "\#(so)", "percent": 101}}}}"#, #""host.modules.p.percent" must be a whole number from 0 to 100"#),
            (#"{"host": {"modules": {"p": {"path": "\#(so)", "stickyKey": 1}}}}"#, #""host.modules.p.stickyKey" must be a string"#),
            (#"{"host": {"modules": {"p": {"path": "\#(so)", "gates": 1}}}}"#, #""host.modules.p.gates" must be an object"#),
            (#"{"host": {"modules": {"p": {"path": "\#(so)", "keepSamples": "5"}}}}"#, #""host.modules.p.keepSamples" must be an integer"#),
            (#"{"host": {}, "host": {}}"#, #"section "host" is given twice"#),
        ]
        for (text, message) in cases {
            let refusal = try hostRefusal(text)
            #expect(refusal.contains(message), "\(text): \(refusal)")
        }
    }
}
