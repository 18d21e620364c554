import Foundation
import ModHostJSON
import Testing

/// `JSONValueDecoder` reads what Foundation's `JSONDecoder` (default strategies) reads, the same
/// way: each case is decoded by both, and both must give the same value or both refuse.
@Suite struct JSONValueDecoderTests {
    struct Nested: Codable, Equatable {
        var value: Int
        var deeper: [Nested]
    }

    enum Kind: String, Codable { case a, b }
    enum Level: Int, Codable { case low = 1, high = 2 }

    enum Tagged: Codable, Equatable {
        case none
        case one(Int)
        case pair(x: String, y: Double)
    }

    struct Everything: Codable, Equatable {
        var b: Bool
        var s: String
        var i: Int, i8: Int8, i16: Int16, i32: Int32, i64: Int64
        var u: UInt, u8: UInt8, u16: UInt16, u32: UInt32, u64: UInt64
        var f: Float, d: Double
        var optional: Int?
        var missing: String?
        var list: [Int?]
        var map: [String: [Bool]]
        var byNumber: [Int: String]
        var nested: Nested
        var kind: Kind, level: Level
        var tagged: [Tagged]
        var date: Date, data: Data, url: URL, decimal: Decimal
    }

    static let everything = #"""
        {"b": true, "s": "é\n\u00e9", "i": -5, "i8": -128, "i16": 32767, "i32": 2.0, "i64": -9223372036854775808,
         "u": 7, "u8": 255, "u16": 1e2, "u32": 4294967295, "u64": 18446744073709551615, "f": 1.5, "d": -2.5e-300,
         "optional": null, "list": [1, null, 3], "map": {"x": [true, false], "": []}, "byNumber": {"1": "one", "-2": "minus two"},
         "nested": {"value": 1, "deeper": [{"value": 2, "deeper": []}]}, "kind": "b", "level": 2,
         "tagged": [{"none": {}}, {"one": {"_0": 5}}, {"pair": {"x": "s", "y": 1}}],
         "date": 1.5, "data": "AQID", "url": "https://example.com/a?b=c", "decimal": 12.345, "unknown": [1, {"z": null}]}
        """#

    /// The outcome of both decoders: equal values, or both refused.
    private func agree<T: Decodable & Equatable>(_ type: T.Type, _ json: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let foundation = Result { try JSONDecoder().decode(T.self, from: Data(json.utf8)) }
        let toolkit = Result { try JSONValueDecoder().decode(T.self, from: Array(json.utf8)) }
        switch (foundation, toolkit) {
        case (.success(let a), .success(let b)):
            #expect(a == b, "\(json)", sourceLocation: sourceLocation)
        case (.failure, .failure):
            break
        case (.success(let a), .failure(let error)):
            Issue.record("JSONDecoder reads \(json) as \(a); JSONValueDecoder refuses it: \(error)", sourceLocation: sourceLocation)
        case (.failure(let error), .success(let b)):
            Issue.record("JSONValueDecoder reads \(json) as \(b); JSONDecoder refuses it: \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func readsWhatJSONDecoderReads() throws {
        agree(Everything.self, Self.everything)
        let decoded = try JSONValueDecoder().decode(Everything.self, from: Array(Self.everything.utf8))
        #expect(decoded.u64 == .max && decoded.i64 == .min && decoded.i32 == 2 && decoded.u16 == 100)
        #expect(decoded.tagged == [.none, .one(5), .pair(x: "s", y: 1)])
        #expect(decoded.data == Data([1, 2, 3]) && decoded.date == Date(timeIntervalSinceReferenceDate: 1.5))
    }

    @Test(arguments: [
        "2", "-0", "2.0", "1e2", "1.5", "2147483648", "-2147483649", "9223372036854775807", "18446744073709551615", "1e400",
        "null", "\"2\"", "true", "[2]",
    ])
    func integersAndTheirLimits(_ json: String) {
        agree(Int.self, json)
        agree(Int32.self, json)
        agree(UInt8.self, json)
        agree(UInt64.self, json)
        agree(Int?.self, json)
        agree(Double.self, json)
        agree(Float.self, json)
    }

    @Test(arguments: [
        #"{"value": 1}"#, #"{"value": 1, "deeper": null}"#, #"{"value": "1", "deeper": []}"#, #"[]"#, "null",
        #"{"value": 1, "deeper": [{"value": 2}]}"#, #"{"value": 1, "deeper": [], "value": 2}"#,
    ])
    func structsRefuseWhatJSONDecoderRefuses(_ json: String) {
        agree(Nested.self, json)
    }

    @Test(arguments: [
        #""a""#, #""c""#, "1", #"{"none": {}}"#, #"{"one": {"_0": "x"}}"#, #"{"pair": {"x": "s"}}"#, #"{"one": {"_0": 1}, "none": {}}"#,
        #""AQID""#, #""!!""#, #""AQI""#, #""https://example.com""#, #""""#, "[1, 2, 3]", #"{"1": "x", "a": "y"}"#,
    ])
    func otherShapes(_ json: String) {
        agree(Kind.self, json)
        agree(Level.self, json)
        agree(Tagged.self, json)
        agree(Data.self, json)
        agree(URL.self, json)
        agree([Int].self, json)
        agree([Int: String].self, json)
        agree([String: String].self, json)
    }

    @Test func aJSONValueInsideATypeIsTakenWhole() throws {
        struct Envelope: Decodable { let id: Int; let payload: JSONValue }
        let decoded = try JSONValueDecoder().decode(Envelope.self, from: Array(#"{"id": 1, "payload": {"n": 18446744073709551615, "x": [1.5]}}"#.utf8))
        #expect(decoded.payload == ["n": .uint(.max), "x": [1.5]])
        // Under JSONDecoder the same type still decodes (kind by kind).
        let foundation = try JSONDecoder().decode(Envelope.self, from: Data(#"{"id": 1, "payload": {"n": 7, "x": [1.5, "s", null]}}"#.utf8))
        #expect(foundation.payload == ["n": 7, "x": [1.5, "s", nil]])
    }

    @Test func invalidJSONIsDataCorruptedSayingWhere() {
        do {
            _ = try JSONValueDecoder().decode(Int.self, from: Array("[1,".utf8))
            Issue.record("decoded invalid JSON")
        } catch let error as DecodingError {
            #expect(DecodingFailure.message(error) == "not valid JSON: unexpected end of input")
        } catch {
            Issue.record("not a DecodingError: \(error)")
        }
    }
}

/// The one `DecodingError` renderer: a line naming the field, for host params, SDK params,
/// config and state alike.
@Suite struct DecodingFailureTests {
    struct Size: Decodable { let width: Int; let height: Int }
    struct Shape: Decodable {
        let name: String
        let size: Size
        let tags: [String]
    }

    private func message(_ json: String) -> String? {
        do {
            _ = try JSONValueDecoder().decode(Shape.self, from: Array(json.utf8))
            return nil
        } catch let error as DecodingError {
            return DecodingFailure.message(error)
        } catch {
            return "\(error)"
        }
    }

    @Test func namesTheField() {
        #expect(message(#"{"size": {"width": 1, "height": 2}, "tags": []}"#) == #"missing field "name""#)
        #expect(message(#"{"name": "n", "size": {"width": 1}, "tags": []}"#) == #"missing field "size.height""#)
        #expect(message(#"{"name": 5, "size": {"width": 1, "height": 2}, "tags": []}"#) == #""name": expected String, found a number"#)
        #expect(message(#"{"name": "n", "size": {"width": 1, "height": [2]}, "tags": []}"#) == #""size.height": expected Int, found an array"#)
        #expect(message(#"{"name": "n", "size": {"width": 1, "height": 2}, "tags": ["a", {}]}"#) == #""tags[1]": expected String, found an object"#)
        #expect(message(#"{"name": null, "size": {"width": 1, "height": 2}, "tags": []}"#) == #""name": expected String, found null"#)
        #expect(message(#"{"name": "n", "size": [], "tags": []}"#) == #""size": expected an object, found an array"#)
        #expect(message("[]") == "expected an object, found an array")
        #expect(message(#"{"name": "n", "size": {"width": 1.5, "height": 2}, "tags": []}"#)
            == "a number is out of range or not an integer where one is expected")
    }

    /// Errors of Foundation's `JSONDecoder` read the same, given the value that was decoded.
    @Test func rendersJSONDecoderErrorsAlike() throws {
        let json = #"{"name": "n", "size": {"width": 1, "height": "2"}, "tags": []}"#
        do {
            _ = try JSONDecoder().decode(Shape.self, from: Data(json.utf8))
            Issue.record("decoded")
        } catch let error as DecodingError {
            #expect(DecodingFailure.message(error, in: try JSONValue(parsing: json)) == #""size.height": expected Int, found a string"#)
        }
        do {
            _ = try JSONDecoder().decode(Shape.self, from: Data(#"{"size": {}}"#.utf8))
            Issue.record("decoded")
        } catch let error as DecodingError {
            #expect(DecodingFailure.message(error) == #"missing field "name""#)
        }
    }
}
