import Foundation
@testable import HealthCore
import Testing

/// The `health` config section: defaults, overrides, both series forms, refusals.
@Suite struct ConfigTests {
    private struct Section: Decodable {
        let config: HealthConfig
        let unknownKeys: [String]
        init(from decoder: any Decoder) throws { (config, unknownKeys) = try HealthConfig.decode(from: decoder) }
    }

    private func read(_ json: String) throws -> Section {
        try JSONDecoder().decode(Section.self, from: Data(json.utf8))
    }

    @Test func emptySectionHasTheDefaults() throws {
        let section = try read("{}")
        #expect(section.config == HealthConfig())
        #expect(section.config.cooldownCapMs == 10_800_000 && section.config.backoffMs == [15_000, 30_000, 60_000, 300_000, 1_800_000, 3_600_000])
        #expect(section.config.backoffResetMs == 600_000 && section.config.circuitThreshold == 3)
        #expect(section.config.circuitOpenMs == 30_000 && section.config.circuitMaxOpenMs == 300_000)
        #expect(section.config.seriesTripShare == 0.5 && section.config.seriesCooldownMs == 60_000)
        #expect(section.unknownKeys.isEmpty)
    }

    @Test func overridesAndBothSeriesForms() throws {
        let section = try read("""
            {"cooldownCapMs": 1000, "circuitThreshold": 5, "seriesTripShare": 1,
             "series": {"claude": ["anthropic.k1", "anthropic.k2"]}, "seriesOf": {"gemini": "google.*", "gpt": ["openai.*"]},
             "cooldownCap": 5}
            """)
        #expect(section.config.cooldownCapMs == 1000 && section.config.circuitThreshold == 5)
        #expect(section.config.series.series(of: "anthropic.k2") == "claude")
        #expect(section.config.series.series(of: "google.k9") == "gemini")
        #expect(section.config.series.series(of: "openai.k1") == "gpt")
        #expect(section.unknownKeys == ["cooldownCap"])
    }

    @Test(arguments: [
        (#"{"cooldownCapMs": 0}"#, "invalid config: cooldownCapMs must be positive, got 0"),
        (#"{"backoffMs": []}"#, "invalid config: backoffMs must not be empty"),
        (#"{"backoffMs": [1000, -1]}"#, "invalid config: backoffMs[1] must be positive, got -1"),
        (#"{"circuitThreshold": 0}"#, "invalid config: circuitThreshold must be at least 1, got 0"),
        (#"{"seriesTripShare": 1.5}"#, "invalid config: seriesTripShare must be in (0, 1], got 1.5"),
    ])
    func badValuesAreRefused(_ json: String, _ message: String) {
        #expect {
            _ = try read(json)
        } throws: { error in
            String(describing: error) == message
        }
    }

    @Test func wrongTypesAreDecodingErrors() {
        #expect(throws: DecodingError.self) { _ = try read(#"{"cooldownCapMs": "3h"}"#) }
    }
}
