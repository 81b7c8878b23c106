// The pieces behind --config and --metrics (issue 5): the configuration scan and the
// Prometheus text builder.

#include "apps/config.hpp"
#include "apps/metrics_server.hpp"

#include <catch2/catch.hpp>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace malfix::apps {
namespace {

/// A configuration file in the temporary directory, removed at the end of the test.
struct TempConfig {
    explicit TempConfig(const std::string& text) {
        char name[] = "/tmp/malfix-config-XXXXXX";
        const int fd = mkstemp(name);
        REQUIRE(fd >= 0);
        close(fd);
        path = name;
        std::ofstream(path) << text;
    }
    ~TempConfig() { std::remove(path.c_str()); }
    std::string path;
};

std::string scan_error(const std::string& text) {
    TempConfig file(text);
    try {
        ConfigScan::read(file.path);
    } catch (const ConfigFileError& e) {
        return std::string(e.what()).substr(file.path.size());
    }
    return "no error";
}

}  // namespace

TEST_CASE("a configuration scan maps every key to its line", "[ops][config]") {
    TempConfig file("# comment\n\nthreads = 2\nread = [\"a\",  # first\n  \"b\"]\nmode = \"x\"\n");
    const ConfigScan scan = ConfigScan::read(file.path);
    REQUIRE(scan.entries().size() == 3);
    CHECK(scan.where("threads") == file.path + ":3: ");
    CHECK(scan.where("read") == file.path + ":4: ");
    CHECK(scan.where("mode") == file.path + ":6: ");
    CHECK(scan.where("intel") == file.path + ": ");
}

TEST_CASE("a configuration scan rejects what CLI11 would misread", "[ops][config]") {
    CHECK(scan_error("[malfix]\n") ==
          ":1: tables ([section]) are not used: write every key at "
          "the top level");
    CHECK(scan_error("threads\n") == ":1: expected key = value");
    CHECK(scan_error("a = 1\n\na = 2\n").starts_with(":3: key 'a' is already set on line 1"));
    CHECK(scan_error("out = \"json:a#b\"\n").starts_with(":1: key 'out': '#' inside"));
    CHECK(scan_error("out = \"json:a\n") == ":1: key 'out': unterminated string");
    CHECK(scan_error("x =\n") == ":1: key 'x' has no value");
    CHECK(scan_error("r = [\"a\",\n\"b\"\n") == ":1: list of 'r' is never closed with ']'");
    CHECK(scan_error("r = [\"a\",\n\"b\"] # no\n").starts_with(":2: no comments inside a list"));
    CHECK(scan_error("bad key = 1\n") == ":1: bad key 'bad key'");
}

TEST_CASE("a CLI11 message is traced to the key it names", "[ops][config]") {
    TempConfig file("kafka-flush-timeout = x\nkafka-wait = maybe\nthreads = 0\n");
    const ConfigScan scan = ConfigScan::read(file.path);
    CHECK(scan.key_in_message("--threads: Value 0 not in range 1 to 1024") == "threads");
    CHECK(scan.key_in_message("Could not convert: --kafka-wait = maybe") == "kafka-wait");
    CHECK(scan.key_in_message("--kafka-flush-timeout: bad") == "kafka-flush-timeout");
    CHECK(scan.key_in_message("--threadsx: what") == "");
    CHECK(scan.key_in_message("--mode: fast not in {alert,pipeline}") == "");
}

TEST_CASE("the config flag is found in argv in both spellings", "[ops][config]") {
    const char* separate[] = {"malfix", "--config", "a.toml", "--threads", "2"};
    CHECK(find_config_flag(5, separate) == "a.toml");
    const char* joined[] = {"malfix", "--config=b.toml"};
    CHECK(find_config_flag(2, joined) == "b.toml");
    const char* none[] = {"malfix", "--read", "x"};
    CHECK(find_config_flag(3, none).empty());
}

TEST_CASE("the Prometheus text has HELP, TYPE and escaped labels", "[ops][metrics]") {
    MetricsText m;
    m.family("malfix_x_total", "counter", "Things.");
    m.sample("malfix_x_total", {}, std::uint64_t{7});
    m.sample("malfix_x_total", {{"a", "q\"b\\c\nd"}, {"e", "f"}},
             std::uint64_t{18446744073709551615U});
    m.family("malfix_age_seconds", "gauge", "Age.");
    m.sample("malfix_age_seconds", {}, 1.5);
    CHECK(m.text() ==
          "# HELP malfix_x_total Things.\n"
          "# TYPE malfix_x_total counter\n"
          "malfix_x_total 7\n"
          "malfix_x_total{a=\"q\\\"b\\\\c\\nd\",e=\"f\"} 18446744073709551615\n"
          "# HELP malfix_age_seconds Age.\n"
          "# TYPE malfix_age_seconds gauge\n"
          "malfix_age_seconds 1.5\n");
}

}  // namespace malfix::apps
