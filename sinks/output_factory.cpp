#include "sinks/output_factory.hpp"

#include "sinks/ipfix_output.hpp"
#include "sinks/json_output.hpp"
#include "sinks/kafka_output.hpp"

#include <charconv>
#include <stdexcept>
#include <string>

namespace malfix::sinks {

namespace {

[[noreturn]] void bad_spec(std::string_view spec, const std::string& reason) {
    throw std::invalid_argument("bad output '" + std::string(spec) + "': " + reason);
}

std::uint16_t parse_port(std::string_view text) {
    if (text.empty()) {
        throw std::invalid_argument("missing port");
    }
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) {
        throw std::invalid_argument("bad port '" + std::string(text) + "' (expected 1-65535)");
    }
    return static_cast<std::uint16_t>(value);
}

}  // namespace

Endpoint parse_endpoint(std::string_view text) {
    Endpoint endpoint;
    std::string_view rest;
    if (!text.empty() && text.front() == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos) {
            throw std::invalid_argument("unterminated '[' in host");
        }
        endpoint.host = std::string(text.substr(1, close - 1));
        rest = text.substr(close + 1);
        if (rest.empty()) {
            throw std::invalid_argument("missing port");
        }
        if (rest.front() != ':') {
            throw std::invalid_argument("expected ':' after ']'");
        }
        rest.remove_prefix(1);
    } else {
        const std::size_t colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            throw std::invalid_argument("missing port (expected HOST:PORT)");
        }
        if (text.find(':') != colon) {
            throw std::invalid_argument("IPv6 addresses need brackets ([ADDR]:PORT)");
        }
        endpoint.host = std::string(text.substr(0, colon));
        rest = text.substr(colon + 1);
    }
    if (endpoint.host.empty()) {
        throw std::invalid_argument("missing host");
    }
    endpoint.port = parse_port(rest);
    return endpoint;
}

std::unique_ptr<Output> make_output(std::string_view spec, const OutputOptions& options) {
    const std::size_t colon = spec.find(':');
    if (colon == std::string_view::npos) {
        bad_spec(spec, "expected SCHEME:TARGET (ipfix:, ipfix+tcp://, ipfix+udp://, json:)");
    }
    const std::string_view scheme = spec.substr(0, colon);
    std::string_view target = spec.substr(colon + 1);
    const std::string name(spec);

    if (scheme == "ipfix" || scheme == "json") {
        if (target.empty()) {
            bad_spec(spec, "missing path");
        }
        if (scheme == "json") {
            return std::make_unique<JsonOutput>(name, std::string(target), options);
        }
        if (target == "-") {
            bad_spec(spec, "IPFIX output cannot go to standard output; give a path");
        }
        return std::make_unique<IpfixFileOutput>(name, std::string(target), options);
    }
    if (scheme == "ipfix+tcp" || scheme == "ipfix+udp") {
        if (target.substr(0, 2) != "//") {
            bad_spec(spec, "expected " + std::string(scheme) + "://HOST:PORT");
        }
        target.remove_prefix(2);
        Endpoint endpoint;
        try {
            endpoint = parse_endpoint(target);
        } catch (const std::invalid_argument& e) {
            bad_spec(spec, e.what());
        }
        if (scheme == "ipfix+tcp") {
            return std::make_unique<IpfixTcpOutput>(name, std::move(endpoint), options);
        }
        return std::make_unique<IpfixUdpOutput>(name, endpoint, options);
    }
    if (scheme == "kafka") {
        // Kafka settings from the command line (-X, timeouts) come through make_kafka_output();
        // here the defaults apply.
        return make_kafka_output(spec, KafkaSettings{});
    }
    bad_spec(spec, "unknown scheme '" + std::string(scheme) +
                       "' (expected ipfix:, ipfix+tcp://, ipfix+udp://, json:, kafka://)");
}

}  // namespace malfix::sinks
