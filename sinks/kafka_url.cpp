#include "sinks/kafka_url.hpp"

#include <algorithm>
#include <stdexcept>

namespace malfix::sinks {

namespace {

[[noreturn]] void bad_url(std::string_view url, const std::string& reason) {
    throw std::invalid_argument("bad Kafka URL '" + std::string(url) + "': " + reason);
}

/// Undoes %XX escapes, so property values may hold '&' or '=' (SASL passwords).
std::string unescape(std::string_view url, std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out.push_back(text[i]);
            continue;
        }
        if (i + 2 >= text.size()) {
            bad_url(url, "truncated %-escape");
        }
        const std::string hex(text.substr(i + 1, 2));
        if (hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
            bad_url(url, "bad %-escape '%" + hex + "'");
        }
        out.push_back(static_cast<char>(std::stoi(hex, nullptr, 16)));
        i += 2;
    }
    return out;
}

void parse_query(std::string_view url, std::string_view query,
                 const std::vector<std::string>& allowed, KafkaUrl& out) {
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view item = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (item.empty()) {
            continue;
        }
        const std::size_t eq = item.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            bad_url(url, "expected key=value in the query, got '" + std::string(item) + "'");
        }
        const std::string key = unescape(url, item.substr(0, eq));
        std::string value = unescape(url, item.substr(eq + 1));
        if (key.starts_with("X.") && key.size() > 2) {
            out.properties.emplace_back(key.substr(2), std::move(value));
            continue;
        }
        if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
            std::string known;
            for (const std::string& a : allowed) {
                known += a + "=, ";
            }
            bad_url(url, "unknown option '" + key + "' (expected " + known + "or X.PROPERTY=)");
        }
        out.params.emplace_back(key, std::move(value));
    }
}

}  // namespace

std::string KafkaUrl::param(std::string_view key, std::string_view fallback) const {
    std::string value(fallback);
    for (const auto& [k, v] : params) {
        if (k == key) {
            value = v;
        }
    }
    return value;
}

KafkaUrl parse_kafka_url(std::string_view url, const std::vector<std::string>& allowed_params) {
    constexpr std::string_view kScheme = "kafka://";
    if (!url.starts_with(kScheme)) {
        bad_url(url, "expected kafka://BROKER[,BROKER...]/TOPIC");
    }
    std::string_view rest = url.substr(kScheme.size());
    std::string_view query;
    if (const std::size_t q = rest.find('?'); q != std::string_view::npos) {
        query = rest.substr(q + 1);
        rest = rest.substr(0, q);
    }
    const std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos) {
        bad_url(url, "missing /TOPIC after the brokers");
    }
    KafkaUrl out;
    out.brokers = std::string(rest.substr(0, slash));
    out.topic = unescape(url, rest.substr(slash + 1));
    if (out.brokers.empty()) {
        bad_url(url, "missing broker (expected HOST:PORT)");
    }
    for (std::string_view b = out.brokers; !b.empty();) {
        const std::size_t comma = b.find(',');
        if (b.substr(0, comma).empty()) {
            bad_url(url, "empty broker in the list");
        }
        b = comma == std::string_view::npos ? std::string_view{} : b.substr(comma + 1);
    }
    // Kafka's own rule for topic names: 1-249 of [a-zA-Z0-9._-].
    if (out.topic.empty() || out.topic.size() > 249 ||
        out.topic.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789._-") != std::string::npos) {
        bad_url(url, "bad topic '" + out.topic + "' (1-249 of a-z A-Z 0-9 . _ -)");
    }
    parse_query(url, query, allowed_params, out);
    return out;
}

std::pair<std::string, std::string> parse_kafka_property(std::string_view text) {
    const std::size_t eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0) {
        throw std::invalid_argument("bad Kafka property '" + std::string(text) +
                                    "' (expected KEY=VALUE, e.g. compression.type=lz4)");
    }
    return {std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

}  // namespace malfix::sinks
