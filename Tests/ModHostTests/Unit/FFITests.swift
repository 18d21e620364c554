import Foundation
import ModHostTestKit
@testable import ModHost
import Testing

/// Typed exports through libffi: signature parsing with positions, and calls into real C
/// functions (`Fixtures/ffi_functions.c`, built once per run) for every type, every refusal and
/// the release of `str` results.
@Suite struct FFITests {
    // MARK: Signatures

    static let goodSignatures: [(String, FFIType, [FFIType])] = [
        ("i64(i64,i64)", .i64, [.i64, .i64]),
        ("void()", .void, []),
        ("void( )", .void, []),
        (" f64 ( f64 , i32 ) ", .f64, [.f64, .i32]),
        ("str(str,bytes)", .str, [.str, .bytes]),
        ("bool(\tbool\t)", .bool, [.bool]),
        ("u64(i8,i16,i32,u8,u16,u32,u64,f32)", .u64, [.i8, .i16, .i32, .u8, .u16, .u32, .u64, .f32]),
    ]

    @Test(arguments: goodSignatures)
    func parsesSignatures(_ text: String, _ result: FFIType, _ parameters: [FFIType]) throws {
        let signature = try FFISignature(parsing: text)
        #expect(signature.result == result)
        #expect(signature.parameters == parameters)
        #expect(try FFISignature(parsing: signature.description) == signature)
    }

    @Test func bytesCountsAsTwoCParameters() throws {
        #expect(try FFISignature(parsing: "u64(bytes,str,bytes)").cParameterCount == 5)
        #expect(FFIType.bytes.parameterTypes.count == 2)
        #expect(FFIType.void.parameterTypes.isEmpty)
    }

    static let badSignatures: [(String, Int, String)] = [
        ("i64(i128)", 5, "unknown type \"i128\""),
        ("i128(i64)", 1, "unknown type \"i128\""),
        ("I64()", 1, "unknown type \"I64\""),
        ("i64(i64, void)", 10, "void is not allowed as a parameter (only as the result)"),
        ("void(void)", 6, "void is not allowed as a parameter (only as the result)"),
        ("bytes(i64)", 1, "bytes is not allowed as a result (only as a parameter)"),
        ("", 1, "missing the result type"),
        ("  ", 3, "missing the result type"),
        ("(i64)", 1, "expected a result type, found \"(\""),
        ("i64", 4, "missing \"(\" after the result type"),
        ("i64 i64()", 5, "expected \"(\" after the result type, found \"i\""),
        ("i64(i64", 8, "missing \")\""),
        ("i64(i64,i64", 12, "missing \")\""),
        ("void(", 6, "missing \")\""),
        ("i64(i64 i64)", 9, "expected \",\" or \")\" after a parameter type, found \"i\""),
        ("i64(i64;i64)", 8, "expected \",\" or \")\" after a parameter type, found \";\""),
        ("i64(é)", 5, "expected a parameter type, found \"é\""),
        ("i64(i64)x", 9, "unexpected \"x\" after \")\""),
        ("i64(i64) )", 10, "unexpected \")\" after \")\""),
        ("i64(i64,,i64)", 9, "empty parameter"),
        ("i64(,i64)", 5, "empty parameter"),
        ("i64(i64, )", 10, "empty parameter"),
        ("é(i64)", 1, "expected a result type, found \"é\""),
    ]

    @Test(arguments: badSignatures)
    func refusesSignatures(_ text: String, _ position: Int, _ message: String) {
        #expect(throws: FFISignatureError(position: position, message: message)) { try FFISignature(parsing: text) }
    }

    @Test func signatureErrorReadsWellAfterTheLoadersPrefix() {
        do {
            _ = try FFISignature(parsing: "i64(i128)")
            Issue.record("accepted i128")
        } catch {
            #expect("export add: signature \"i64(i128)\": \(error)"
                == "export add: signature \"i64(i128)\": unknown type \"i128\" at position 5")
        }
    }

    @Test func refusesMoreThanTheMaximumParameterCount() throws {
        let maximum = FFISignature.maximumParameterCount
        _ = try FFISignature(parsing: "void(" + Array(repeating: "u8", count: maximum).joined(separator: ",") + ")")
        let tooMany = "void(" + Array(repeating: "u8", count: maximum + 1).joined(separator: ",") + ")"
        #expect(throws: FFISignatureError(position: 6 + 3 * maximum, message: "more than \(maximum) parameters")) {
            try FFISignature(parsing: tooMany)
        }
    }

    // MARK: Preparing an export

    @Test func refusesParameterNamesThatDoNotFit() throws {
        let add = try Fixture.symbol("ffi_add")
        #expect(throws: TypedExportError("param_names lists 3 names for 2 parameters")) {
            try TypedExport(name: "add", function: add, signature: "i64(i64,i64)", parameterNames: ["a", "b", "c"], release: nil)
        }
        #expect(throws: TypedExportError("param_names lists 1 name for 2 parameters")) {
            try TypedExport(name: "add", function: add, signature: "i64(i64,i64)", parameterNames: ["a"], release: nil)
        }
        #expect(throws: TypedExportError("param_names repeats \"a\"")) {
            try TypedExport(name: "add", function: add, signature: "i64(i64,i64)", parameterNames: ["a", "a"], release: nil)
        }
        #expect(throws: FFISignatureError(position: 5, message: "unknown type \"i65\"")) {
            try TypedExport(name: "add", function: add, signature: "i64(i65,i64)", parameterNames: nil, release: nil)
        }
        let named = try TypedExport(name: "add", function: add, signature: "i64( i64, i64 )", parameterNames: ["a", "b"], release: nil)
        #expect(named.name == "add")
        #expect(named.signatureText == "i64( i64, i64 )")
        #expect(named.parameterNames == ["a", "b"])
    }

    // MARK: Round trips

    /// Identity functions: each JSON argument comes back as the expected JSON result.
    static let roundTrips: [(String, [(String, String)])] = [
        ("bool", [("true", "true"), ("false", "false")]),
        ("i8", [("-128", "-128"), ("127", "127"), ("0", "0"), ("-0", "0"), ("-1", "-1")]),
        ("i16", [("-32768", "-32768"), ("32767", "32767"), ("-2", "-2")]),
        ("i32", [("-2147483648", "-2147483648"), ("2147483647", "2147483647"), ("-7", "-7")]),
        ("i64", [("-9223372036854775808", "-9223372036854775808"), ("9223372036854775807", "9223372036854775807"), ("42", "42")]),
        ("u8", [("0", "0"), ("255", "255"), ("128", "128")]),
        ("u16", [("65535", "65535"), ("32768", "32768")]),
        ("u32", [("4294967295", "4294967295"), ("2147483648", "2147483648"), ("-0", "0")]),
        ("u64", [("18446744073709551615", "18446744073709551615"), ("9223372036854775808", "9223372036854775808"), ("0", "0")]),
        ("f32", [
            ("1.5", "1.5"), ("0.1", "0.1"), ("-0.0", "-0.0"), ("3", "3.0"), ("3.4028235e38", "3.4028235e+38"),
            ("-3.4028235E+38", "-3.4028235e+38"), ("1e-45", "1e-45"), ("16777217", "16777216.0"), ("1e-50", "0.0"),
        ]),
        ("f64", [
            ("0.1", "0.1"), ("1", "1.0"), ("-2.5", "-2.5"), ("1e300", "1e+300"), ("5e-324", "5e-324"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"), ("9007199254740993", "9007199254740992.0"),
            ("0.30000000000000004", "0.30000000000000004"),
        ]),
        ("str", [
            (#""hello""#, #""hello""#), (#""""#, #""""#),
            (#""a\"b\\c\/d\ne\tf\r\b\f""#, #""a\"b\\c/d\ne\tf\r\u0008\u000c""#),
            (#""caf\u00e9 \ud83d\ude00 漢""#, "\"café 😀 漢\""), ("\"é ü\"", "\"é ü\""),
        ]),
    ]

    @Test(arguments: roundTrips)
    func identityRoundTrips(_ type: String, _ cases: [(String, String)]) throws {
        let export = try Fixture.export("ffi_id_\(type)", "\(type)(\(type))")
        for (argument, expected) in cases {
            #expect(try Fixture.call(export, "[\(argument)]") == expected, "\(type) \(argument)")
        }
    }

    @Test func narrowIntegerResultsKeepTheirSign() throws {
        #expect(try Fixture.call(Fixture.export("ffi_minus_one_i8", "i8()"), nil) == "-1")
        #expect(try Fixture.call(Fixture.export("ffi_max_u8", "u8()"), nil) == "255")
        let negate = try Fixture.export("ffi_negate_i32", "i32(i32)")
        #expect(try Fixture.call(negate, "[5]") == "-5")
        #expect(try Fixture.call(negate, "[-2147483647]") == "2147483647")
        let not = try Fixture.export("ffi_not", "bool(bool)")
        #expect(try Fixture.call(not, "[true]") == "false")
        #expect(try Fixture.call(not, "[false]") == "true")
    }

    @Test func voidResultIsNullAndTheFunctionRuns() throws {
        let touch = try Fixture.export("ffi_touch", "void()")
        let count = try Fixture.export("ffi_touch_count", "i32()")
        let before = try Int(Fixture.call(count, nil))!
        #expect(try Fixture.call(touch, nil) == "null")
        #expect(try Fixture.call(touch, "[]") == "null")
        #expect(try Fixture.call(touch, " { } ") == "null")
        #expect(try Int(Fixture.call(count, nil))! == before + 3)
    }

    @Test func mixedParametersLandInTheirPlaces() throws {
        let mix = try Fixture.export(
            "ffi_mix", "f64(i8,u16,bytes,f64,f32,bool,str)", names: ["a", "b", "data", "c", "d", "e", "s"])
        // -3 + 65535 + 3 (length) + 6 (1+2+3) + 0.5 + 0.25 + 1000 + 4 (strlen) = 66545.75
        #expect(try Fixture.call(mix, #"[-3, 65535, "AQID", 0.5, 0.25, true, "abcd"]"#) == "66545.75")
        #expect(try Fixture.call(mix, #"{"s":"abcd","e":true,"d":0.25,"c":0.5,"data":"AQID","b":65535,"a":-3}"#) == "66545.75")
        #expect(try Fixture.call(mix, "[-3,65535,\"\",0.5,0.25,false,\"\"]") == "65532.75")
    }

    @Test func namedAndPositionalArguments() throws {
        let add = try Fixture.export("ffi_add", "i64(i64,i64)", names: ["a", "b"])
        #expect(try Fixture.call(add, "[2,3]") == "5")
        #expect(try Fixture.call(add, #"{"a":2,"b":3}"#) == "5")
        #expect(try Fixture.call(add, #"{"b":3,"a":2}"#) == "5")
        #expect(try Fixture.call(add, "{\n  \"a\" : -2 ,\r\n\t\"b\":\t3\n}") == "1")
        #expect(try Fixture.call(add, #"{"\u0061":10,"b":1}"#) == "11")
        #expect(try Fixture.call(add, " [ 9223372036854775806 , 1 ] ") == "9223372036854775807")
    }

    @Test func bytesArriveExactlyFromBase64() throws {
        let hash = try Fixture.export("ffi_fnv1a", "u64(bytes)")
        let length = try Fixture.export("ffi_length", "u64(bytes)")
        var generator = SystemRandomNumberGenerator()
        for count in [0, 1, 2, 3, 4, 5, 63, 64, 65, 1000, 5000] {
            let data = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let base64 = Data(data).base64EncodedString()
            #expect(try Fixture.call(hash, "[\"\(base64)\"]") == String(Self.fnv1a(data)), "\(count) bytes")
            #expect(try Fixture.call(length, "[\"\(base64)\"]") == String(count))
            // "\/" is JSON for "/", which base64 uses.
            let escaped = base64.replacingOccurrences(of: "/", with: "\\/")
            #expect(try Fixture.call(hash, "[\"\(escaped)\"]") == String(Self.fnv1a(data)), "\(count) bytes, escaped")
        }
        #expect(try Fixture.call(hash, #"["/+/+"]"#) == String(Self.fnv1a([0xFF, 0xEF, 0xFE])))
    }

    @Test func base64DecoderAgreesWithFoundation() {
        let cases = ["", "QQ==", "QUI=", "QUJD", "////", "+/+/", "QQ=", "QQ", "Q===", "=QQQ", "QQ==QQ==", "QU JD", "QUJD\n", "ÀÀÀÀ", "QR=="]
        for text in cases {
            let foundation = Data(base64Encoded: text).map { [UInt8]($0) }
            let ours = Array(text.utf8).withUnsafeBufferPointer { input -> [UInt8]? in
                let output = UnsafeMutablePointer<UInt8>.allocate(capacity: input.count + 1)
                defer { output.deallocate() }
                return FFIValueDecoder.decodeBase64(input, into: output).map { Array(UnsafeBufferPointer(start: output, count: $0)) }
            }
            #expect(ours == foundation, "\(text)")
        }
    }

    @Test func stringsArriveNULTerminatedAndWhole() throws {
        let length = try Fixture.export("ffi_strlen", "u64(str)")
        #expect(try Fixture.call(length, #"["caf\u00e9"]"#) == "5")
        #expect(try Fixture.call(length, #"["\ud83d\ude00"]"#) == "4")
        let long = String(repeating: "abcdefghij", count: 10_000)
        #expect(try Fixture.call(length, "[\"\(long)\"]") == "100000")
        // From the C library itself, found in the process.
        let libc = try #require(dlopen(nil, RTLD_NOW))
        let strlen = try TypedExport(
            name: "strlen", function: try #require(UnsafeRawPointer(dlsym(libc, "strlen"))), signature: "u64(str)",
            parameterNames: ["s"], release: nil)
        #expect(try Fixture.call(strlen, #"{"s":"h\u00e9llo\n"}"#) == "7")
    }

    @Test func aStringArgumentHandedBackIsCopiedBeforeTheArgumentsAreFreed() throws {
        let echo = try Fixture.export("ffi_echo_str", "str(str)")
        for text in ["", "x", "héllo \\\"quoted\\\"\\n 漢 😀", String(repeating: "long ", count: 2_000)] {
            #expect(try Fixture.call(echo, "[\"\(text)\"]") == "\"\(text)\"")
        }
        let named = try Fixture.export("ffi_echo_str", "str(str)", names: ["s"])
        #expect(try Fixture.call(named, #"{"s":"caf\u00e9"}"#) == "\"café\"")
    }

    @Test func stringResultsAreCopiedAndEscaped() throws {
        #expect(try Fixture.call(Fixture.export("ffi_null_str", "str()"), nil) == "null")
        #expect(try Fixture.call(Fixture.export("ffi_escapes", "str()"), nil)
            == #""quote \" backslash \\ newline \n tab \t bell \u0007 café""#)
    }

    @Test func releaseRunsExactlyOncePerStringResult() throws {
        let release = unsafeBitCast(
            try Fixture.symbol("ffi_release"), to: (@convention(c) (UnsafeMutableRawPointer?) -> Void).self)
        let greet = try Fixture.export("ffi_greet", "str(str)", names: ["name"], release: release)
        let bad = try Fixture.export("ffi_greet_bad_utf8", "str()", release: release)
        let null = try Fixture.export("ffi_null_str", "str()", release: release)
        let releases = try Fixture.export("ffi_release_count", "i32()")
        let before = try Int(Fixture.call(releases, nil))!
        #expect(try Fixture.call(greet, #"["world"]"#) == #""hello world""#)
        #expect(try Fixture.call(greet, #"{"name":"\"x\""}"#) == #""hello \"x\"""#)
        #expect(try Int(Fixture.call(releases, nil))! == before + 2)
        // Released even when the result is refused; never called for NULL; not for a refused call.
        Self.expectError(-32603, "Internal error: result of ffi_greet_bad_utf8 is not valid UTF-8") { try Fixture.call(bad, nil) }
        #expect(try Fixture.call(null, nil) == "null")
        Self.expectError(-32602, "Invalid params: \"name\": expected str (a string), got a number") { try Fixture.call(greet, "[1]") }
        #expect(try Int(Fixture.call(releases, nil))! == before + 3)
    }

    @Test func concurrentCallsDoNotShareScratchSpace() async throws {
        let add = try Fixture.export("ffi_add", "i64(i64,i64)")
        let greet = try Fixture.export("ffi_id_str", "str(str)")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for k in 0..<2_000 {
                        guard try Fixture.call(add, "[\(task),\(k)]") == String(task + k) else { throw TestFailure("add \(task) \(k)") }
                        let text = "t\(task)-\(k)"
                        guard try Fixture.call(greet, "[\"\(text)\"]") == "\"\(text)\"" else { throw TestFailure("str \(text)") }
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    // MARK: Refusals

    /// (symbol, signature, names, params, message after "Invalid params: ").
    static let refusals: [(String, String, [String]?, String?, String)] = [
        // Arity, names.
        ("ffi_add", "i64(i64,i64)", ["a", "b"], "[1,2,3]", "export ffi_add takes 2 parameters (a, b), got 3"),
        ("ffi_add", "i64(i64,i64)", nil, "[1]", "export ffi_add takes 2 parameters (i64, i64), got 1"),
        ("ffi_add", "i64(i64,i64)", nil, "[]", "export ffi_add takes 2 parameters (i64, i64), got 0"),
        ("ffi_add", "i64(i64,i64)", ["a", "b"], nil, "export ffi_add takes 2 parameters (a, b), got 0"),
        ("ffi_id_i8", "i8(i8)", ["v"], "[1,2]", "export ffi_id_i8 takes 1 parameter (v), got 2"),
        ("ffi_touch", "void()", nil, "[1]", "export ffi_touch takes no parameters, got 1"),
        ("ffi_add", "i64(i64,i64)", ["a", "b"], #"{"a":1}"#, "missing parameter \"b\""),
        ("ffi_add", "i64(i64,i64)", ["a", "b"], #"{}"#, "missing parameter \"a\""),
        ("ffi_add", "i64(i64,i64)", ["a", "b"], #"{"a":1,"b":2,"c":3}"#, "unknown parameter \"c\""),
        ("ffi_add", "i64(i64,i64)", ["a", "b"], #"{"a":1,"a":2,"b":3}"#, "parameter \"a\" is given twice"),
        ("ffi_add", "i64(i64,i64)", nil, #"{"a":1,"b":2}"#, "export ffi_add has no parameter names: pass its 2 parameters as an array"),
        ("ffi_touch", "void()", nil, #"{"a":1}"#, "unknown parameter \"a\""),
        // Integers.
        ("ffi_id_i32", "i32(i32)", ["a"], "[1099511627776]", "\"a\": 1099511627776 is out of range for i32"),
        ("ffi_id_i32", "i32(i32)", nil, "[1099511627776]", "#1: 1099511627776 is out of range for i32"),
        ("ffi_id_i32", "i32(i32)", ["a"], "[2147483648]", "\"a\": 2147483648 is out of range for i32"),
        ("ffi_id_i32", "i32(i32)", ["a"], "[-2147483649]", "\"a\": -2147483649 is out of range for i32"),
        ("ffi_id_i8", "i8(i8)", ["a"], "[128]", "\"a\": 128 is out of range for i8"),
        ("ffi_id_i8", "i8(i8)", ["a"], "[-129]", "\"a\": -129 is out of range for i8"),
        ("ffi_id_i16", "i16(i16)", ["a"], "[32768]", "\"a\": 32768 is out of range for i16"),
        ("ffi_id_u8", "u8(u8)", ["a"], "[256]", "\"a\": 256 is out of range for u8"),
        ("ffi_id_u8", "u8(u8)", ["a"], "[-1]", "\"a\": -1 is out of range for u8"),
        ("ffi_id_u16", "u16(u16)", ["a"], "[65536]", "\"a\": 65536 is out of range for u16"),
        ("ffi_id_u32", "u32(u32)", ["a"], "[4294967296]", "\"a\": 4294967296 is out of range for u32"),
        ("ffi_id_u64", "u64(u64)", ["a"], "[18446744073709551616]", "\"a\": 18446744073709551616 is out of range for u64"),
        ("ffi_id_u64", "u64(u64)", ["a"], "[-18446744073709551615]", "\"a\": -18446744073709551615 is out of range for u64"),
        ("ffi_id_i64", "i64(i64)", ["a"], "[9223372036854775808]", "\"a\": 9223372036854775808 is out of range for i64"),
        ("ffi_id_i64", "i64(i64)", ["a"], "[-9223372036854775809]", "\"a\": -9223372036854775809 is out of range for i64"),
        ("ffi_id_i64", "i64(i64)", ["a"], "[" + String(repeating: "9", count: 100) + "]",
         "\"a\": " + String(repeating: "9", count: 32) + "… (100 characters) is out of range for i64"),
        ("ffi_id_i32", "i32(i32)", ["a"], "[1.5]", "\"a\": expected an integer for i32, got 1.5"),
        ("ffi_id_i32", "i32(i32)", ["a"], "[1.0]", "\"a\": expected an integer for i32, got 1.0"),
        ("ffi_id_i32", "i32(i32)", ["a"], "[1e3]", "\"a\": expected an integer for i32, got 1e3"),
        ("ffi_id_u64", "u64(u64)", ["a"], "[99999999999999999999.5]", "\"a\": expected an integer for u64, got 99999999999999999999.5"),
        ("ffi_id_i32", "i32(i32)", ["a"], #"["1"]"#, "\"a\": expected i32, got a string"),
        ("ffi_id_i32", "i32(i32)", ["a"], "[true]", "\"a\": expected i32, got a boolean"),
        ("ffi_id_i32", "i32(i32)", ["a"], "[null]", "\"a\": expected i32, got null"),
        ("ffi_id_i32", "i32(i32)", ["a"], "[[1]]", "\"a\": expected i32, got an array"),
        ("ffi_id_i32", "i32(i32)", ["a"], #"[{"v":1}]"#, "\"a\": expected i32, got an object"),
        ("ffi_add", "i64(i64,i64)", nil, #"[1,"x"]"#, "#2: expected i64, got a string"),
        ("ffi_add", "i64(i64,i64)", ["a", "b"], #"{"b":"x","a":1}"#, "\"b\": expected i64, got a string"),
        // Floats.
        ("ffi_id_f64", "f64(f64)", ["x"], "[1e400]", "\"x\": 1e400 is out of range for f64 (not finite)"),
        ("ffi_id_f64", "f64(f64)", ["x"], "[-1e400]", "\"x\": -1e400 is out of range for f64 (not finite)"),
        ("ffi_id_f32", "f32(f32)", ["x"], "[1e39]", "\"x\": 1e39 is out of range for f32 (not finite)"),
        ("ffi_id_f32", "f32(f32)", ["x"], "[-3.5e38]", "\"x\": -3.5e38 is out of range for f32 (not finite)"),
        ("ffi_id_f64", "f64(f64)", ["x"], #"["1.5"]"#, "\"x\": expected f64, got a string"),
        ("ffi_id_f32", "f32(f32)", ["x"], "[null]", "\"x\": expected f32, got null"),
        // bool, str, bytes.
        ("ffi_id_bool", "bool(bool)", ["flag"], "[1]", "\"flag\": expected bool (true or false), got a number"),
        ("ffi_id_bool", "bool(bool)", ["flag"], #"["true"]"#, "\"flag\": expected bool (true or false), got a string"),
        ("ffi_id_bool", "bool(bool)", ["flag"], "[null]", "\"flag\": expected bool (true or false), got null"),
        ("ffi_id_str", "str(str)", ["s"], "[5]", "\"s\": expected str (a string), got a number"),
        ("ffi_id_str", "str(str)", ["s"], #"["a\u0000b"]"#, "\"s\": the string contains NUL (\\u0000), which a C string cannot hold"),
        ("ffi_id_str", "str(str)", nil, #"["\ud800x"]"#, "#1: the string holds a lone UTF-16 surrogate, which is not valid UTF-8"),
        ("ffi_id_str", "str(str)", nil, #"["\udc00"]"#, "#1: the string holds a lone UTF-16 surrogate, which is not valid UTF-8"),
        ("ffi_fnv1a", "u64(bytes)", ["data"], #"["!!!!"]"#, "\"data\": expected bytes as base64, got a string that is not valid base64"),
        ("ffi_fnv1a", "u64(bytes)", ["data"], #"["AQI"]"#, "\"data\": expected bytes as base64, got a string that is not valid base64"),
        ("ffi_fnv1a", "u64(bytes)", ["data"], #"["AQ ID"]"#, "\"data\": expected bytes as base64, got a string that is not valid base64"),
        ("ffi_fnv1a", "u64(bytes)", ["data"], "[12]", "\"data\": expected bytes (a base64 string), got a number"),
        // Malformed params.
        ("ffi_add", "i64(i64,i64)", nil, "[1,2", "params are not valid JSON"),
        ("ffi_add", "i64(i64,i64)", nil, "[1,,2]", "params are not valid JSON"),
        ("ffi_add", "i64(i64,i64)", nil, "[1,2] x", "params are not valid JSON"),
        ("ffi_add", "i64(i64,i64)", nil, "[01,2]", "params are not valid JSON"),
        ("ffi_add", "i64(i64,i64)", ["a", "b"], #"{"a":1 "b":2}"#, "params are not valid JSON"),
        ("ffi_add", "i64(i64,i64)", nil, "", "params are not valid JSON"),
        ("ffi_add", "i64(i64,i64)", nil, "7", "params must be an array or an object, got a number"),
    ]

    @Test(arguments: refusals)
    func refusesWithAMessageNamingTheParameter(
        _ symbol: String, _ signature: String, _ names: [String]?, _ params: String?, _ message: String
    ) throws {
        let export = try Fixture.export(symbol, signature, names: names)
        Self.expectError(-32602, "Invalid params: \(message)") { try Fixture.call(export, params) }
    }

    @Test func nonFiniteResultsAreInternalErrors() throws {
        Self.expectError(-32603, "Internal error: result of ffi_infinity is not finite") {
            try Fixture.call(Fixture.export("ffi_infinity", "f64()"), nil)
        }
        Self.expectError(-32603, "Internal error: result of ffi_nan_f32 is not finite") {
            try Fixture.call(Fixture.export("ffi_nan_f32", "f32()"), nil)
        }
        Self.expectError(-32603, "Internal error: result of ffi_bad_utf8 is not valid UTF-8") {
            try Fixture.call(Fixture.export("ffi_bad_utf8", "str()"), nil)
        }
    }

    // MARK: Helpers

    static func expectError(
        _ code: Int32, _ message: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> String
    ) {
        do {
            let result = try body()
            Issue.record("expected \(code) \(message), got \(result)", sourceLocation: sourceLocation)
        } catch let error as RPCError {
            #expect(error.code == code, sourceLocation: sourceLocation)
            #expect(error.message == message, sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }

    static func fnv1a(_ data: [UInt8]) -> UInt64 {
        data.reduce(14_695_981_039_346_656_037 as UInt64) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
    }

    struct TestFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// `Fixtures/ffi_functions.c`, compiled and dlopened once per run.
    struct Fixture: @unchecked Sendable {
        let handle: UnsafeMutableRawPointer

        static let shared = Result { () throws -> Fixture in
            let directory = try TemporaryDirectory.make(prefix: "modhost-ffi")
            let output = "\(directory)/libffi_functions.so"
            try PluginBuilder.buildC(source: TestPlugins.fixtures.appendingPathComponent("ffi_functions.c").path, output: output)
            guard let handle = dlopen(output, RTLD_NOW | RTLD_LOCAL) else {
                throw TestFailure("dlopen \(output): \(String(cString: dlerror()))")
            }
            return Fixture(handle: handle)
        }

        static func symbol(_ name: String) throws -> UnsafeRawPointer {
            guard let pointer = dlsym(try shared.get().handle, name) else { throw TestFailure("no symbol \(name)") }
            return UnsafeRawPointer(pointer)
        }

        /// A typed export named like the C function.
        static func export(
            _ symbol: String, _ signature: String, names: [String]? = nil,
            release: (@convention(c) (UnsafeMutableRawPointer?) -> Void)? = nil
        ) throws -> TypedExport {
            try TypedExport(name: symbol, function: Self.symbol(symbol), signature: signature, parameterNames: names, release: release)
        }

        /// Calls with `params` as JSON text (nil: absent) and returns the result as text.
        static func call(_ export: TypedExport, _ params: String?) throws -> String {
            guard let params else { return String(decoding: try export.call(params: nil), as: UTF8.self) }
            var bytes = Array(params.utf8)
            return try bytes.withUnsafeMutableBufferPointer { buffer in
                String(decoding: try export.call(params: UnsafeBufferPointer(buffer)), as: UTF8.self)
            }
        }
    }
}
