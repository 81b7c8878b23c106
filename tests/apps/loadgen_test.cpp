#include "apps/loadgen/collector.hpp"
#include "apps/loadgen/flow_generator.hpp"
#include "apps/loadgen/message_pool.hpp"
#include "apps/loadgen/sender.hpp"
#include "apps/loadgen/trail_pool.hpp"
#include "intel/snapshot.hpp"
#include "intel/trail_parser.hpp"
#include "ipfix/decoder.hpp"

#include <catch2/catch.hpp>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

using namespace malfix;
using namespace malfix::loadgen;

namespace {

const std::filesystem::path kTrails = std::filesystem::path(MALFIX_TEST_DATA) / "sample/trails";

std::shared_ptr<const TrailPool> trails() {
    static const std::shared_ptr<const TrailPool> pool = TrailPool::load(kTrails);
    return pool;
}

std::filesystem::path temp_file(const std::string& name) {
    return std::filesystem::temp_directory_path() /
           ("malfix_loadgen_" + std::to_string(getpid()) + "_" + name);
}

std::vector<std::byte> read_all(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::byte> bytes(chars.size());
    std::memcpy(bytes.data(), chars.data(), chars.size());
    return bytes;
}

/// Writes a stream the way `malfix-loadgen --write` does and returns its bytes.
std::vector<std::byte> write(Mix mix, DnsEncoding dns, std::uint64_t flows, std::uint64_t seed,
                             double ipv6_share = 0.1) {
    GeneratorConfig config;
    config.mix = mix;
    config.seed = seed;
    config.ipv6_share = ipv6_share;
    FlowGenerator generator(*trails(), config);
    PoolConfig pool_config;
    pool_config.dns = dns;
    pool_config.max_flows = flows;
    const MessagePool pool(generator, pool_config);
    const auto path = temp_file("write.ipfix");
    const SendStats stats = write_stream(pool, flows, 1'704'067'200, path);
    REQUIRE(stats.flows == flows);
    std::vector<std::byte> bytes = read_all(path);
    std::filesystem::remove(path);
    return bytes;
}

/// What malfix's own decoder and the snapshot make of one flow.
struct Tally {
    std::uint64_t flows = 0;
    std::uint64_t ipv6 = 0;
    std::uint64_t with_dns = 0;
    std::uint64_t address_hits = 0;  ///< flows where an address or address:port hits
    std::uint64_t dns_hits = 0;      ///< flows where a DNS name hits
    std::uint64_t any_hit = 0;
    std::uint64_t udp53_dns = 0;  ///< flows with names that are UDP to port 53
};

class TallySink : public ipfix::FlowSink {
public:
    explicit TallySink(const intel::Snapshot& snapshot) : snapshot_(snapshot) {}

    void on_flow(const ipfix::FlowView& flow) override {
        ++tally.flows;
        tally.ipv6 += flow.src_addr.is_v6() ? 1 : 0;
        const bool address =
            hits(flow.src_addr, flow.src_port) || hits(flow.dst_addr, flow.dst_port);
        bool dns = false;
        for (std::size_t i = 0; i < flow.dns_count; ++i) {
            char normal[300];
            const std::size_t n = intel::normalize_domain(flow.dns_name(i), normal, sizeof normal);
            dns = dns || (n != 0 && snapshot_.find_domain({normal, n}));
        }
        tally.with_dns += flow.dns_count != 0 ? 1 : 0;
        tally.udp53_dns += (flow.dns_count != 0 && flow.protocol == 17 && flow.dst_port == 53);
        tally.address_hits += address ? 1 : 0;
        tally.dns_hits += dns ? 1 : 0;
        tally.any_hit += (address || dns) ? 1 : 0;
    }

    Tally tally;

private:
    bool hits(const ipfix::IpAddress& a, std::uint16_t port) const {
        if (a.is_v6()) {
            return snapshot_.find_ipv6(a.bytes) || snapshot_.find_ipv6_port(a.bytes, port);
        }
        return snapshot_.find_ipv4(a.v4_host_order()) ||
               snapshot_.find_ipv4_port(a.v4_host_order(), port);
    }

    const intel::Snapshot& snapshot_;
};

Tally decode(const std::vector<std::byte>& stream) {
    ipfix::Session session(ipfix::Transport::kFile, "test");
    ipfix::DecodeCounters counters;
    TallySink sink(trails()->snapshot());
    std::span<const std::byte> rest(stream);
    while (!rest.empty()) {
        const std::size_t length = ipfix::message_length(rest);
        REQUIRE(length != 0);
        REQUIRE(length <= rest.size());
        const ipfix::DecodeResult r =
            ipfix::decode_message(rest.first(length), session, counters, sink, 0);
        REQUIRE(r.ok);
        rest = rest.subspan(length);
    }
    CHECK(counters.sequence_gaps == 0);
    for (const std::uint64_t drops : counters.drops) {
        CHECK(drops == 0);
    }
    return sink.tally;
}

double share(std::uint64_t part, std::uint64_t whole) {
    return static_cast<double>(part) / static_cast<double>(whole);
}

constexpr std::uint64_t kFlows = 20'001;  // not a multiple of any Message's record count

}  // namespace

TEST_CASE("malicious-ip flows all hit by address and carry no name", "[loadgen][mix]") {
    const Tally t = decode(write(Mix::kMaliciousIp, DnsEncoding::kYaf, kFlows, 7));
    CHECK(t.flows == kFlows);
    CHECK(t.address_hits == kFlows);
    CHECK(t.with_dns == 0);
}

TEST_CASE("malicious-dns flows all carry a name that hits and no address that does",
          "[loadgen][mix]") {
    for (const DnsEncoding dns : {DnsEncoding::kYaf, DnsEncoding::kFlat}) {
        const Tally t = decode(write(Mix::kMaliciousDns, dns, kFlows, 7));
        CHECK(t.flows == kFlows);
        CHECK(t.with_dns == kFlows);
        CHECK(t.dns_hits == kFlows);
        CHECK(t.address_hits == 0);
        CHECK(t.udp53_dns == kFlows);
    }
}

TEST_CASE("benign-dns5 never hits and 5 % of its flows carry a name", "[loadgen][mix]") {
    for (const DnsEncoding dns : {DnsEncoding::kYaf, DnsEncoding::kFlat}) {
        const Tally t = decode(write(Mix::kBenignDns5, dns, kFlows, 11));
        CHECK(t.flows == kFlows);
        CHECK(t.any_hit == 0);
        CHECK(share(t.with_dns, t.flows) == Approx(0.05).margin(0.006));
        CHECK(t.udp53_dns == t.with_dns);
    }
}

TEST_CASE("mixed10 is 10 % malicious, half by address and half by name", "[loadgen][mix]") {
    for (const DnsEncoding dns : {DnsEncoding::kYaf, DnsEncoding::kFlat}) {
        const Tally t = decode(write(Mix::kMixed10, dns, kFlows, 3));
        CHECK(t.flows == kFlows);
        CHECK(share(t.any_hit, t.flows) == Approx(0.10).margin(0.01));
        CHECK(share(t.dns_hits, t.any_hit) == Approx(0.5).margin(0.05));
        CHECK(share(t.address_hits, t.any_hit) == Approx(0.5).margin(0.05));
        // Benign flows with names: 5 % of the 90 %.
        CHECK(share(t.with_dns - t.dns_hits, t.flows) == Approx(0.045).margin(0.006));
    }
}

TEST_CASE("the IPv6 share is what was asked for", "[loadgen][mix]") {
    for (const double wanted : {0.0, 0.1, 0.5}) {
        const Tally t = decode(write(Mix::kMaliciousDns, DnsEncoding::kYaf, kFlows, 5, wanted));
        CHECK(share(t.ipv6, t.flows) == Approx(wanted).margin(0.012));
    }
    const Tally t = decode(write(Mix::kMaliciousIp, DnsEncoding::kYaf, kFlows, 5, 0.1));
    CHECK(share(t.ipv6, t.flows) == Approx(0.1).margin(0.012));
    CHECK(t.address_hits == kFlows);
}

TEST_CASE("the same seed gives the same bytes, another seed other bytes", "[loadgen][seed]") {
    const auto a = write(Mix::kMixed10, DnsEncoding::kYaf, 5000, 42);
    const auto b = write(Mix::kMixed10, DnsEncoding::kYaf, 5000, 42);
    const auto c = write(Mix::kMixed10, DnsEncoding::kYaf, 5000, 43);
    CHECK(a == b);
    CHECK(a != c);
}

TEST_CASE("a stream longer than the pool cycles it with exact counts and sequence numbers",
          "[loadgen][pool]") {
    GeneratorConfig config;
    config.mix = Mix::kBenignDns5;
    FlowGenerator generator(*trails(), config);
    PoolConfig pool_config;
    pool_config.max_flows = 1000;
    const MessagePool pool(generator, pool_config);
    const auto path = temp_file("cycle.ipfix");
    REQUIRE(write_stream(pool, 4567, 0, path).flows == 4567);
    const Tally t = decode(read_all(path));  // decode() checks there is no sequence gap
    std::filesystem::remove(path);
    CHECK(t.flows == 4567);
}

TEST_CASE("the collector counts every record a sender put on TCP", "[loadgen][collector]") {
    auto url = parse_url("tcp://127.0.0.1:0");
    REQUIRE(url);
    Collector collector({*url, false});
    std::atomic<bool> stop{false};
    std::thread worker([&] { collector.run(stop); });

    GeneratorConfig config;
    config.mix = Mix::kMixed10;
    FlowGenerator generator(*trails(), config);
    const MessagePool pool(generator, PoolConfig{});
    SendConfig send;
    send.target = collector.address();
    send.connections = 3;
    send.flows = 250'000;
    const SendStats sent = send_stream(pool, send, stop);
    CHECK(sent.error.empty());
    CHECK(sent.flows == 250'000);

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (collector.totals().records < sent.flows && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop = true;
    worker.join();
    const CollectorTotals got = collector.totals();
    CHECK(got.connections == 3);
    CHECK(got.records == sent.flows);
    CHECK(got.bytes == sent.bytes);
    CHECK(got.messages == sent.messages);
    CHECK(got.rejected == 0);
}

TEST_CASE("a UDP sender holds its rate and resends templates", "[loadgen][udp]") {
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(fd >= 0);
    auto url = parse_url("udp://127.0.0.1:0");
    REQUIRE(url);
    REQUIRE(bind(fd, reinterpret_cast<const sockaddr*>(&url->address), url->address_length) == 0);
    const timeval timeout{0, 200'000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);

    GeneratorConfig config;
    config.mix = Mix::kMaliciousDns;
    FlowGenerator generator(*trails(), config);
    PoolConfig pool_config;
    pool_config.max_message_size = 1400;
    const MessagePool pool(generator, pool_config);
    SendConfig send;
    send.target = local_url(fd, true);
    send.rate = 20'000;
    send.flows = 10'000;
    send.template_interval = 0.2;
    ipfix::Session session(ipfix::Transport::kUdp, "test");
    ipfix::DecodeCounters counters;
    TallySink sink(trails()->snapshot());
    // Received while sending: loopback drops what overflows the socket buffer.
    std::thread receiver([&] {
        std::vector<std::byte> datagram(65535);
        for (;;) {
            const ssize_t n = recv(fd, datagram.data(), datagram.size(), 0);
            if (n <= 0) {
                break;
            }
            CHECK(static_cast<std::size_t>(n) <= 1400);
            ipfix::decode_message({datagram.data(), static_cast<std::size_t>(n)}, session, counters,
                                  sink, 0);
        }
    });
    std::atomic<bool> stop{false};
    const SendStats sent = send_stream(pool, send, stop);
    receiver.join();
    CHECK(sent.error.empty());
    CHECK(sent.seconds == Approx(0.5).margin(0.15));
    close(fd);
    CHECK(sink.tally.flows == sent.flows);
    CHECK(sink.tally.dns_hits == sink.tally.flows);
    CHECK(counters.template_records > 2 * 8);
}
