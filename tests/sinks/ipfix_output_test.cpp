#include "sinks/ipfix_output.hpp"

#include "sinks/output_factory.hpp"
#include "tests/sinks/ipfix_test_parser.hpp"
#include "tests/sinks/sinks_test_util.hpp"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

using namespace malfix;

namespace {

std::filesystem::path temp_file(const std::string& stem) {
    return std::filesystem::temp_directory_path() /
           (stem + "_" + std::to_string(getpid()) + ".tmp");
}

std::string read_file(const std::filesystem::path& path) {
    std::string out;
    if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
        char buf[65536];
        std::size_t n = 0;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
            out.append(buf, n);
        }
        std::fclose(f);
    }
    return out;
}

bool have_program(const char* name) {
    const std::string cmd = std::string("command -v ") + name + " >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
}

/// A socket bound to 127.0.0.1 on a port the kernel picks.
struct LoopbackSocket {
    int fd = -1;
    std::uint16_t port = 0;

    explicit LoopbackSocket(int type) {
        fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        socklen_t len = sizeof addr;
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
        port = ntohs(addr.sin_port);
        if (type == SOCK_STREAM) {
            REQUIRE(listen(fd, 4) == 0);
        }
    }
    ~LoopbackSocket() { close(fd); }
};

/// Reads whatever arrives on fd within timeout_ms of silence.
std::vector<std::byte> read_available(int fd, int timeout_ms = 500) {
    std::vector<std::byte> out;
    std::byte buf[65536];
    pollfd p{fd, POLLIN, 0};
    while (poll(&p, 1, timeout_ms) == 1) {
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            break;
        }
        out.insert(out.end(), buf, buf + n);
    }
    return out;
}

/// Three flows of which two are forwarded: one with two hits, one pipeline flow.
struct SampleBatch {
    std::shared_ptr<const ipfix::Template> tmpl = test::make_template(256, test::basic_fields());
    test::BasicFlow f;
    std::vector<std::byte> record = test::basic_record(f);
    engine::FlowBatch batch;

    SampleBatch() {
        const auto view = test::basic_view(record, tmpl, f);
        test::add_flow(
            batch, view,
            {test::ip_hit("198.51.100.2", "zeus (malware)"),
             test::ip_hit("192.0.2.1", "mass scanner", "(static)", engine::HitField::kSrcAddr)});
        test::add_flow(batch, view, {}, false);
        test::add_flow(batch, view, {});
    }
};

}  // namespace

TEST_CASE("the IPFIX file output writes Messages that ipfixDump decodes without warnings",
          "[sinks][ipfix][interop]") {
    const auto path = temp_file("malfix_sinks_dump");
    {
        auto out = sinks::make_output("ipfix:" + path.string());
        SampleBatch sample;

        // A record with a subTemplateList (RFC 6313) to check nested Templates decode too.
        auto inner = test::make_template(0xCF00, {{8, 4, 0}});
        auto outer = test::make_template(300, {{4, 1, 0}, {292, ipfix::kVariableLength, 0}});
        // protocolIdentifier 17, list of 7 bytes: semantic allOf (3), Template 0xCF00, 192.0.2.7
        const std::vector<std::byte> nested_record{std::byte{17},   std::byte{7},    std::byte{3},
                                                   std::byte{0xCF}, std::byte{0x00}, std::byte{192},
                                                   std::byte{0},    std::byte{2},    std::byte{7}};
        ipfix::FlowView nested;
        nested.record = {nested_record.data(), nested_record.size()};
        nested.tmpl = &outer;
        nested.nested[0] = &inner;
        nested.nested_count = 1;
        nested.observation_domain = 1;
        test::add_flow(sample.batch, nested, {test::ip_hit("192.0.2.7", "botnet (malicious)")});

        out->write(sample.batch);
        out->flush();
        const sinks::OutputStats stats = out->stats();
        CHECK(stats.flows == 3);
        CHECK(stats.errors == 0);
        CHECK(stats.dropped == 0);
        CHECK(stats.bytes == std::filesystem::file_size(path));
    }

    const std::string bytes = read_file(path);
    const auto messages = test::parse_stream(test::as_bytes(bytes));
    REQUIRE(!messages.empty());

    if (!have_program("ipfixDump")) {
        WARN("ipfixDump not installed (Debian libfixbuf-tools); interop check skipped");
        std::filesystem::remove(path);
        return;
    }
    const auto out_path = temp_file("malfix_sinks_dump_out");
    const auto err_path = temp_file("malfix_sinks_dump_err");
    const std::string cmd = "ipfixDump --rfc5610 --in " + path.string() + " >" + out_path.string() +
                            " 2>" + err_path.string();
    CHECK(std::system(cmd.c_str()) == 0);
    const std::string dumped = read_file(out_path);
    const std::string errors = read_file(err_path);
    INFO(dumped);
    CHECK(errors.empty());
    CHECK(dumped.find("malfix_trail") != std::string::npos);
    CHECK(dumped.find("_alien") == std::string::npos);  // the RFC 5610 records named them
    bool trail_line = false;
    for (std::size_t at = dumped.find("malfix_trail :"); at != std::string::npos;
         at = dumped.find("malfix_trail :", at + 1)) {
        const std::string line = dumped.substr(at, dumped.find('\n', at) - at);
        trail_line = trail_line || line.find("198.51.100.2") != std::string::npos;
    }
    CHECK(trail_line);
    CHECK(dumped.find("198.51.100.2") != std::string::npos);
    CHECK(dumped.find("zeus (malware)") != std::string::npos);
    CHECK(dumped.find("mass scanner") != std::string::npos);
    CHECK(dumped.find("botnet (malicious)") != std::string::npos);
    CHECK(dumped.find("192.0.2.7") != std::string::npos);
    std::filesystem::remove(path);
    std::filesystem::remove(out_path);
    std::filesystem::remove(err_path);
}

TEST_CASE("the TCP output connects to the Collector and sends framed Messages",
          "[sinks][ipfix][tcp]") {
    LoopbackSocket listener(SOCK_STREAM);
    auto out = sinks::make_output("ipfix+tcp://127.0.0.1:" + std::to_string(listener.port));
    const int conn = accept(listener.fd, nullptr, nullptr);
    REQUIRE(conn >= 0);

    SampleBatch sample;
    out->write(sample.batch);
    out->write(sample.batch);
    out->flush();
    const auto bytes = read_available(conn);
    const auto messages = test::parse_stream(bytes);
    REQUIRE(!messages.empty());
    test::Replay replay;
    for (const auto& m : messages) {
        CHECK(m.version == 10);
        CHECK(m.odid == 1);
        replay.feed(m);
    }
    CHECK(messages.front().sequence == 0);
    CHECK(replay.missing_template == 0);
    CHECK(replay.records.size() == 6 + 4);  // RFC 5610 records and 4 flows
    const auto stats = out->stats();
    CHECK(stats.flows == 4);
    CHECK(stats.bytes == bytes.size());
    CHECK(stats.messages == messages.size());
    close(conn);
}

TEST_CASE("the TCP output drops flows while disconnected and reconnects from tick",
          "[sinks][ipfix][tcp]") {
    std::uint16_t port = 0;
    {
        LoopbackSocket probe(SOCK_STREAM);
        port = probe.port;
    }  // closed: nobody listens there now
    sinks::OutputOptions options;
    options.reconnect_min_s = 1;
    auto out = sinks::make_output("ipfix+tcp://127.0.0.1:" + std::to_string(port), options);
    SampleBatch sample;
    out->write(sample.batch);
    out->flush();
    CHECK(out->stats().dropped == 2);
    CHECK(out->stats().errors >= 1);
    CHECK(out->stats().flows == 0);

    // Something else may grab the port meanwhile; then the reconnect test is meaningless.
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 4) != 0) {
        close(fd);
        WARN("port taken meanwhile; reconnect part skipped");
        return;
    }
    out->tick(100);
    const int conn = accept(fd, nullptr, nullptr);
    REQUIRE(conn >= 0);
    out->write(sample.batch);
    out->flush();
    const auto messages = test::parse_stream(read_available(conn));
    test::Replay replay;
    for (const auto& m : messages) {
        replay.feed(m);
    }
    CHECK(replay.missing_template == 0);
    CHECK(out->stats().flows == 2);

    // The Collector goes away: the failure is counted, the flows dropped, no SIGPIPE.
    close(conn);
    close(fd);
    for (int i = 0; i < 50 && out->stats().errors < 2; ++i) {
        out->write(sample.batch);
        out->flush();
        usleep(10000);
    }
    CHECK(out->stats().errors >= 2);
    CHECK(out->stats().dropped > 2);
}

TEST_CASE("the UDP output sends one Message per datagram and resends Templates periodically",
          "[sinks][ipfix][udp]") {
    LoopbackSocket collector(SOCK_DGRAM);
    sinks::OutputOptions options;
    options.template_refresh_s = 60;
    auto out =
        sinks::make_output("ipfix+udp://127.0.0.1:" + std::to_string(collector.port), options);
    out->tick(1000);
    SampleBatch sample;
    auto count_template_sets = [&] {
        int sets = 0;
        std::byte buf[65536];
        pollfd p{collector.fd, POLLIN, 0};
        while (poll(&p, 1, 200) == 1) {
            const ssize_t n = recv(collector.fd, buf, sizeof buf, 0);
            REQUIRE(n > 0);
            CHECK(n <= 1400);
            const auto m = test::parse_message({buf, static_cast<std::size_t>(n)});
            for (const auto& s : m.sets) {
                sets += (s.id == 2 || s.id == 3) ? 1 : 0;
            }
        }
        return sets;
    };
    out->write(sample.batch);
    out->flush();
    CHECK(count_template_sets() >= 2);
    out->write(sample.batch);
    out->flush();
    CHECK(count_template_sets() == 0);
    out->tick(1061);
    out->write(sample.batch);
    out->flush();
    CHECK(count_template_sets() >= 2);
    CHECK(out->stats().flows == 6);
    CHECK(out->stats().errors == 0);
}
