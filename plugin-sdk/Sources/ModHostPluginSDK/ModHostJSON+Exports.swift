// Plugin authors get the JSON toolkit with the SDK: `JSONValue` for params and results of any
// shape, `JSONValueDecoder`, `DecodingFailure`, `JSONObjectWriter`, the scanner.
@_exported import ModHostJSON
