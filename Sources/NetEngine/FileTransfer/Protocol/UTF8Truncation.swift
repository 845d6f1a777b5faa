import Crypto

extension String {
    /// The longest prefix whose UTF-8 form fits in `limit` bytes, cut between Unicode scalars.
    func truncatedToUTF8Length(_ limit: Int) -> String {
        guard utf8.count > limit else { return self }
        var result = String.UnicodeScalarView()
        var used = 0
        for scalar in unicodeScalars {
            let length = String(scalar).utf8.count
            if used + length > limit { break }
            used += length
            result.append(scalar)
        }
        return String(result)
    }
}
