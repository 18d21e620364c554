import Foundation
import ModHostTestKit

/// Builds the plugins the end-to-end tests load: the C example, the C fixtures (with their -D
/// switches), and the Swift plugins `swift build` put in the build directory.
enum TestPlugins {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repository.appendingPathComponent("Tests/ModHostTests/Fixtures")
    static let echoSource = repository.appendingPathComponent("plugin-sdk/examples/c-echo/echo.c").path

    /// A fresh private plugin directory.
    static func directory() throws -> String {
        try TemporaryDirectory.make(prefix: "modhost-plugins")
    }

    /// Builds the C example `libecho.so` into `directory`.
    @discardableResult
    static func echo(into directory: String, name: String = "libecho.so") throws -> String {
        let output = "\(directory)/\(name)"
        try PluginBuilder.buildC(source: echoSource, output: output)
        return output
    }

    /// Builds `Fixtures/probe.c` with an id, optional requirements (`["a", "b >=1.0"]`), version
    /// and more switches (`["-DPROBE_FLAGS=0"]`), into `directory/name` (default `lib<id>.so`).
    @discardableResult
    static func probe(
        into directory: String, id: String = "probe", requires: [String] = [], version: String? = nil, name: String? = nil,
        defines extra: [String] = []
    ) throws -> String {
        var defines = ["-DPROBE_ID=\"\(id)\""] + extra
        if !requires.isEmpty {
            defines.append("-DPROBE_REQUIRES=" + requires.map { "\"\($0)\"" }.joined(separator: ","))
        }
        if let version { defines.append("-DPROBE_VERSION=\"\(version)\"") }
        let output = "\(directory)/\(name ?? "lib\(id).so")"
        try PluginBuilder.buildC(source: fixtures.appendingPathComponent("probe.c").path, output: output, defines: defines)
        return output
    }

    /// Builds `Fixtures/typed.c` (typed exports of every type), optionally under another id.
    @discardableResult
    static func typed(into directory: String, id: String = "typed", defines: [String] = []) throws -> String {
        let output = "\(directory)/lib\(id).so"
        try PluginBuilder.buildC(
            source: fixtures.appendingPathComponent("typed.c").path, output: output, defines: ["-DTYPED_ID=\"\(id)\""] + defines)
        return output
    }

    /// Builds `Fixtures/broken.c` with the given defect switches into `directory/name`.
    @discardableResult
    static func broken(into directory: String, name: String, defines: [String]) throws -> String {
        let output = "\(directory)/\(name)"
        try PluginBuilder.buildC(source: fixtures.appendingPathComponent("broken.c").path, output: output, defines: defines)
        return output
    }

    /// Builds `Fixtures/swappable.c` (module `counter`, for hot swap) as version 1 or 2, with more
    /// of its switches in `defines` (`-DSWAP_FAIL_IMPORT`, `-DSWAP_FLAGS=0`, …), into
    /// `directory/name` (default `libcounter-v<version>.so`).
    @discardableResult
    static func counter(into directory: String, version: Int = 1, defines: [String] = [], name: String? = nil) throws -> String {
        let output = "\(directory)/\(name ?? "libcounter-v\(version).so")"
        try PluginBuilder.buildC(
            source: fixtures.appendingPathComponent("swappable.c").path, output: output, defines: ["-DSWAP_VERSION=\(version)"] + defines)
        return output
    }

    /// Builds `Fixtures/crasher.c` (methods that crash the host on purpose), optionally under
    /// another id or with `-DCRASHER_CRASH_IN_ENTRY`, into `directory/name` (default `lib<id>.so`).
    @discardableResult
    static func crasher(into directory: String, id: String = "crasher", defines: [String] = [], name: String? = nil) throws -> String {
        let output = "\(directory)/\(name ?? "lib\(id).so")"
        try PluginBuilder.buildC(
            source: fixtures.appendingPathComponent("crasher.c").path, output: output, defines: ["-DCRASHER_ID=\"\(id)\""] + defines)
        return output
    }

    /// Builds `Fixtures/legacy.c`: a genuine ABI 1.0 (`minor: 0`, module `legacy10`) or 1.1
    /// (`minor: 1`, module `legacy11`, with typed exports) descriptor ending at a guard page.
    @discardableResult
    static func legacy(into directory: String, minor: Int) throws -> String {
        let output = "\(directory)/liblegacy1\(minor).so"
        try PluginBuilder.buildC(
            source: fixtures.appendingPathComponent("legacy.c").path, output: output, defines: ["-DLEGACY_MINOR=\(minor)"])
        return output
    }

    /// Builds `Fixtures/future.c`: module `future`, built against an invented ABI 1.3.
    @discardableResult
    static func future(into directory: String) throws -> String {
        let output = "\(directory)/libfuture.so"
        try PluginBuilder.buildC(source: fixtures.appendingPathComponent("future.c").path, output: output)
        return output
    }

    /// Builds `Fixtures/concurrent.c`: module `conc`, with `MH_FLAG_CONCURRENT` unless `serial`.
    @discardableResult
    static func concurrent(into directory: String, serial: Bool = false) throws -> String {
        let output = "\(directory)/libconc\(serial ? "-serial" : "").so"
        try PluginBuilder.buildC(
            source: fixtures.appendingPathComponent("concurrent.c").path, output: output, defines: serial ? ["-DCONC_FLAGS=0"] : [])
        return output
    }

    /// Builds `Fixtures/services.c`: module `svc`, using the services of ABI 1.2, as `version`.
    @discardableResult
    static func services(into directory: String, version: String = "1.0.0", name: String? = nil) throws -> String {
        let output = "\(directory)/\(name ?? "libsvc.so")"
        try PluginBuilder.buildC(
            source: fixtures.appendingPathComponent("services.c").path, output: output, defines: ["-DSVC_VERSION=\"\(version)\""])
        return output
    }

    /// Builds `Fixtures/fakeclock.c`, the `LD_PRELOAD` library that adds the offset in `offsetFile`
    /// (a 64-bit count of ms, rewritten with `FakeWallClock.set`) to the wall clock only.
    static func fakeClock(into directory: String) throws -> String {
        let output = "\(directory)/libfakeclock.so"
        try PluginBuilder.buildC(source: fixtures.appendingPathComponent("fakeclock.c").path, output: output)
        return output
    }

    /// Copies a Swift plugin built by SwiftPM (e.g. `libCalc.so`) into `directory`, as `name`
    /// (default: the same file name).
    @discardableResult
    static func swiftPlugin(_ file: String, into directory: String, name: String? = nil) throws -> String {
        try PluginBuilder.copyBuilt(file, into: directory, name: name)
    }
}
