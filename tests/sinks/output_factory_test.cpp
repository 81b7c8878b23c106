#include "sinks/output_factory.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

using namespace malfix;

namespace {

std::string error_of(const std::string& spec) {
    try {
        sinks::make_output(spec);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return {};
}

}  // namespace

TEST_CASE("bad output specs are refused with a one-line reason", "[sinks][factory]") {
    CHECK(error_of("kafka2://broker:9092").find("unknown scheme 'kafka2'") != std::string::npos);
    CHECK(error_of("kafka://broker:9092").find("missing /TOPIC") != std::string::npos);
    CHECK(error_of("stdout").find("expected SCHEME:TARGET") != std::string::npos);
    CHECK(error_of("ipfix+tcp://127.0.0.1").find("missing port") != std::string::npos);
    CHECK(error_of("ipfix+tcp://127.0.0.1:").find("missing port") != std::string::npos);
    CHECK(error_of("ipfix+udp://127.0.0.1:0").find("bad port '0'") != std::string::npos);
    CHECK(error_of("ipfix+udp://127.0.0.1:70000").find("bad port") != std::string::npos);
    CHECK(error_of("ipfix+udp://127.0.0.1:47x").find("bad port") != std::string::npos);
    CHECK(error_of("ipfix+tcp://:4739").find("missing host") != std::string::npos);
    CHECK(error_of("ipfix+tcp:127.0.0.1:4739").find("ipfix+tcp://HOST:PORT") != std::string::npos);
    CHECK(error_of("ipfix:").find("missing path") != std::string::npos);
    CHECK(error_of("json:").find("missing path") != std::string::npos);
    CHECK(error_of("ipfix:-").find("standard output") != std::string::npos);
    for (const char* spec : {"kafka://x", "ipfix+tcp://h", "json:"}) {
        CHECK(error_of(spec).find('\n') == std::string::npos);
    }
}

TEST_CASE("endpoints accept host names, IPv4 and bracketed IPv6", "[sinks][factory]") {
    CHECK(sinks::parse_endpoint("collector.example:4739").host == "collector.example");
    CHECK(sinks::parse_endpoint("127.0.0.1:4739").port == 4739);
    const auto v6 = sinks::parse_endpoint("[::1]:4740");
    CHECK(v6.host == "::1");
    CHECK(v6.port == 4740);
    CHECK_THROWS_AS(sinks::parse_endpoint("::1:4740"), std::invalid_argument);
    CHECK_THROWS_AS(sinks::parse_endpoint("[::1]4740"), std::invalid_argument);
}

TEST_CASE("a file that cannot be opened is a runtime error", "[sinks][factory]") {
    CHECK_THROWS_AS(sinks::make_output("json:/nonexistent-dir/x.json"), std::runtime_error);
    CHECK_THROWS_AS(sinks::make_output("ipfix:/nonexistent-dir/x.ipfix"), std::runtime_error);
}
