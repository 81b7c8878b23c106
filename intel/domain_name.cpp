// Domain name normalisation and the Punycode half of IDNA (RFC 3492).

#include "intel/snapshot.hpp"
#include "intel/trail_parser.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace malfix::intel {
namespace {

char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

bool starts_with_www(std::string_view name) {
    return name.size() > 4 && ascii_lower(name[0]) == 'w' && ascii_lower(name[1]) == 'w' &&
           ascii_lower(name[2]) == 'w' && name[3] == '.';
}

// Decodes UTF-8 strictly: overlong forms, surrogates and values above U+10FFFF are errors,
// because a lenient decoder would let two spellings of one name become two trails.
bool decode_utf8(std::string_view text, std::vector<char32_t>& out) {
    for (std::size_t i = 0; i < text.size();) {
        const auto lead = static_cast<unsigned char>(text[i]);
        const int extra = lead < 0x80           ? 0
                          : (lead >> 5) == 0x6  ? 1
                          : (lead >> 4) == 0xE  ? 2
                          : (lead >> 3) == 0x1E ? 3
                                                : -1;
        if (extra < 0 || i + static_cast<std::size_t>(extra) >= text.size()) {
            return false;
        }
        char32_t cp = extra == 0 ? lead : lead & (0x3F >> extra);
        for (int k = 1; k <= extra; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (next & 0x3F);
        }
        constexpr char32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
        if (cp < kMinForLength[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        out.push_back(cp);
        i += static_cast<std::size_t>(extra) + 1;
    }
    return true;
}

// RFC 3492 §6.1 bias adaptation with the §5 parameters for Punycode.
std::uint32_t adapt(std::uint32_t delta, std::uint32_t points, bool first) {
    delta = first ? delta / 700 : delta / 2;
    delta += delta / points;
    std::uint32_t k = 0;
    while (delta > ((36 - 1) * 26) / 2) {
        delta /= 35;
        k += 36;
    }
    return k + (36 * delta) / (delta + 38);
}

char punycode_digit(std::uint32_t d) {
    return static_cast<char>(d < 26 ? 'a' + d : '0' + (d - 26));
}

// RFC 3492 §6.3 encoding procedure.
bool punycode_encode(const std::vector<char32_t>& input, std::string& out) {
    std::uint32_t basic = 0;
    for (char32_t cp : input) {
        if (cp < 0x80) {
            out.push_back(ascii_lower(static_cast<char>(cp)));
            ++basic;
        }
    }
    if (basic > 0) {
        out.push_back('-');
    }
    std::uint32_t n = 0x80;
    std::uint32_t delta = 0;
    std::uint32_t bias = 72;
    for (std::uint32_t handled = basic; handled < input.size(); ++delta, ++n) {
        char32_t next = 0x10FFFF + 1;
        for (char32_t cp : input) {
            if (cp >= n && cp < next) {
                next = cp;
            }
        }
        if ((next - n) > (UINT32_MAX - delta) / (handled + 1)) {
            return false;
        }
        delta += (next - n) * (handled + 1);
        n = next;
        for (char32_t cp : input) {
            if (cp < n && ++delta == 0) {
                return false;
            }
            if (cp != n) {
                continue;
            }
            std::uint32_t q = delta;
            for (std::uint32_t k = 36;; k += 36) {
                const std::uint32_t t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
                if (q < t) {
                    break;
                }
                out.push_back(punycode_digit(t + (q - t) % (36 - t)));
                q = (q - t) / (36 - t);
            }
            out.push_back(punycode_digit(q));
            bias = adapt(delta, handled + 1, handled == basic);
            delta = 0;
            ++handled;
        }
    }
    return true;
}

}  // namespace

std::size_t normalize_domain(std::string_view raw, char* out, std::size_t cap) {
    while (!raw.empty() && raw.front() == '.') {
        raw.remove_prefix(1);
    }
    while (!raw.empty() && raw.back() == '.') {
        raw.remove_suffix(1);
    }
    if (starts_with_www(raw)) {
        raw.remove_prefix(4);
    }
    if (raw.empty() || raw.size() > cap) {
        return 0;
    }
    for (std::size_t i = 0; i < raw.size(); ++i) {
        out[i] = ascii_lower(raw[i]);
    }
    return raw.size();
}

bool label_to_ascii(std::string_view label, std::string& out) {
    bool ascii = true;
    for (char c : label) {
        ascii = ascii && static_cast<unsigned char>(c) < 0x80;
    }
    if (ascii) {
        for (char c : label) {
            out.push_back(ascii_lower(c));
        }
        return true;
    }
    std::vector<char32_t> code_points;
    if (!decode_utf8(label, code_points)) {
        return false;
    }
    out.append("xn--");
    return punycode_encode(code_points, out);
}

}  // namespace malfix::intel
