import Foundation
import ModHostTestKit
import Testing

@testable import ModHost

/// The crash line's wording for each kind of fault, from the C formatter the signal handler uses
/// (`mh_shim_crash_describe`), against a real plugin image registered as the loader registers it.
/// The end-to-end CrashReportTests kill real hosts; these cover the attribution rules one by one.
@Suite(.serialized) struct CrashLineTests {
    /// A crasher image dlopened in this process and registered in the crash table.
    final class Image: Sendable {
        let file: String
        let entry: Int32
        /// An address inside the image's code (its `mh_plugin_entry`).
        let pc: UInt
        private nonisolated(unsafe) let handle: UnsafeMutableRawPointer

        init(id: String = "crasher", file name: String = "libcrasher.so") throws {
            let directory = try TestPlugins.directory()
            let path = try TestPlugins.crasher(into: directory, id: id, name: name)
            handle = try #require(dlopen(path, RTLD_NOW | RTLD_LOCAL))
            let found: UnsafeMutableRawPointer? = dlsym(handle, "mh_plugin_entry")
            let symbol: UnsafeMutableRawPointer = try #require(found)
            pc = UInt(bitPattern: symbol)
            file = path
            entry = CrashReport.register(handle: handle, id: id, version: "1.0.0", file: path)
            CrashReport.identifyHost(label: "modhost test")
        }

        deinit {
            CrashReport.unmapped(entry)
            dlclose(handle)
        }
    }

    /// An address in the test executable (the "host" of this process).
    private static let hostPC: UInt = {
        let function: @convention(c) () -> Void = {}
        return unsafeBitCast(function, to: UInt.self)
    }()

    @Test func aFaultInAModulesCodeNamesItWithTheCallItWasIn() throws {
        let image = try Image()
        #expect(image.entry >= 0)
        CrashReport.setGeneration(image.entry, 3)
        let line = "segv".withCString { name in
            CrashReport.call(image.entry, name, 4) { CrashReport.describe(signal: SIGSEGV, pc: image.pc) }
        }
        #expect(line == "modhost: fatal SIGSEGV in module crasher 1.0.0 (generation 3, file \(image.file)), in call crasher.segv: "
            + "restart with --disable crasher (or --disable \(image.file)) to leave it out\n")
    }

    @Test func aFaultInAModulesCodeOutsideAnyCallIsStillItsOwn() throws {
        let image = try Image()
        let line = CrashReport.describe(signal: SIGBUS, pc: image.pc)
        #expect(line.hasPrefix("modhost: fatal SIGBUS in module crasher 1.0.0 (generation ?, file \(image.file)), outside any call"))
    }

    @Test func aLifecycleEntryOrCallbackIsNamedWithItsDetail() throws {
        let image = try Image()
        let topic = Array("health.tripped".utf8CString)
        let line = topic.withUnsafeBufferPointer { topic in
            CrashReport.entry(image.entry, "on_event", detail: UnsafeBufferPointer(rebasing: topic.dropLast())) {
                CrashReport.describe(signal: SIGILL, pc: image.pc)
            }
        }
        #expect(line.contains("in module crasher 1.0.0 (generation ?, file \(image.file)), in its on_event (health.tripped): restart with"))
        let elsewhere = CrashReport.entry(image.entry, "start") { CrashReport.describe(signal: SIGABRT, pc: 16) }
        #expect(elsewhere.hasPrefix("modhost: fatal SIGABRT outside any module's image, in start of module crasher 1.0.0"))
    }

    @Test func theHostsOwnCodeInAModulesCallBlamesTheHostAndNamesTheCall() throws {
        let image = try Image()
        let line = "bad_respond".withCString { name in
            CrashReport.call(image.entry, name, 11) { CrashReport.describe(signal: SIGSEGV, pc: Self.hostPC) }
        }
        #expect(line.hasPrefix("modhost: fatal SIGSEGV in the host's own code (modhost"))
        #expect(line.contains("in call crasher.bad_respond of module crasher 1.0.0 (generation ?, file \(image.file)): a host bug"))
        #expect(line.hasSuffix("restart with --disable crasher (or --disable \(image.file)) to leave it out\n"))
    }

    @Test func neitherAModuleNorACallIsAHostBug() {
        let line = CrashReport.describe(signal: SIGSEGV, pc: Self.hostPC)
        #expect(line.hasPrefix("modhost: fatal SIGSEGV in the host itself (modhost"))
        #expect(line.hasSuffix("not in a module's code or call: a host bug, please report it\n"))
        #expect(!line.contains("--disable"))
    }

    @Test func loadingAFileNamesIt() {
        let line = CrashReport.loading("/plugins/libnew.so") { CrashReport.describe(signal: SIGSEGV, pc: 16) }
        #expect(line == "modhost: fatal SIGSEGV while loading /plugins/libnew.so (in its library constructors, mh_plugin_entry "
            + "or descriptor): restart with --disable /plugins/libnew.so to leave it out\n")
    }

    @Test func framesNestAndUnwind() throws {
        let image = try Image()
        let line = "outer".withCString { outer in
            CrashReport.call(image.entry, outer, 5) {
                _ = "inner".withCString { inner in CrashReport.call(image.entry, inner, 5) { 0 } }
                return CrashReport.describe(signal: SIGSEGV, pc: image.pc)
            }
        }
        #expect(line.contains("in call crasher.outer:"))
        #expect(!CrashReport.describe(signal: SIGSEGV, pc: image.pc).contains("in call"), "no frame is left behind")
    }

    @Test func anUnmappedImageIsNoLongerBlamed() throws {
        var image: Image? = try Image(id: "gone", file: "libgone.so")
        let pc = image!.pc
        #expect(CrashReport.describe(signal: SIGSEGV, pc: pc).contains("in module gone"))
        image = nil  // marked dead, then dlclosed
        #expect(!CrashReport.describe(signal: SIGSEGV, pc: pc).contains("in module gone"))
    }

    @Test func aSignalSentByAnotherProcessSaysSo() {
        let line = CrashReport.describe(signal: SIGSEGV, pc: Self.hostPC, code: 0 /* SI_USER */, sender: 1)
        #expect(line == "modhost: fatal SIGSEGV sent by process 1 (kill), not a fault in the host or a module\n")
    }

    @Test func theLineStaysOneLine() throws {
        let image = try Image(id: "nl", file: "lib\nnl.so")
        let line = CrashReport.describe(signal: SIGSEGV, pc: image.pc)
        #expect(line.filter { $0 == "\n" }.count == 1)
        #expect(line.contains("lib?nl.so"))
    }
}
