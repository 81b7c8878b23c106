#include "engine/listener.hpp"

#include "tests/engine/recording_consumer.hpp"

// Asio's scheduler trips -Wnull-dereference once inlined (GCC 12, Boost 1.74).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#pragma GCC diagnostic pop

#include <catch2/catch.hpp>

#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using malfix::engine::CloseReason;
using malfix::engine::InputRuntime;
using malfix::engine::InputRuntimeOptions;
using malfix::engine::ListenProtocol;
using malfix::engine::ListenSpec;
using malfix::engine::parse_listen_spec;
using malfix::ipfix::Transport;
using malfix::test::ipfix_message;
using malfix::test::RecordingConsumer;
using malfix::test::wait_until;

namespace {

namespace asio = boost::asio;
using Tcp = asio::ip::tcp;
using Udp = asio::ip::udp;
using Bytes = std::vector<std::byte>;

// Keeps the runtime's log lines for assertions instead of printing them.
struct LogLines {
    std::mutex mutex;
    std::vector<std::string> lines;

    InputRuntimeOptions options(std::size_t threads = 1) {
        InputRuntimeOptions o;
        o.io_threads = threads;
        o.log = [this](std::string_view line) {
            const std::lock_guard lock(mutex);
            lines.emplace_back(line);
        };
        return o;
    }

    bool contains(const std::string& text) {
        const std::lock_guard lock(mutex);
        for (const auto& line : lines) {
            if (line.find(text) != std::string::npos) {
                return true;
            }
        }
        return false;
    }
};

// The blocking client side of a test: an exporter on 127.0.0.1.
class TcpExporter {
public:
    explicit TcpExporter(std::uint16_t port) : socket_(io_) {
        socket_.connect(Tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
        socket_.set_option(Tcp::no_delay(true));
        name_ = "tcp:127.0.0.1:" + std::to_string(socket_.local_endpoint().port());
    }

    void send(const Bytes& bytes) { asio::write(socket_, asio::buffer(bytes)); }

    const std::string& name() const { return name_; }

    // True once the listener has closed its end.
    bool closed_by_peer() {
        std::array<char, 1> one{};
        boost::system::error_code ec;
        asio::read(socket_, asio::buffer(one), ec);
        return ec == asio::error::eof || ec == asio::error::connection_reset;
    }

    void close() { socket_.close(); }

private:
    asio::io_context io_;
    Tcp::socket socket_;
    std::string name_;
};

std::uint16_t bound_port(const InputRuntime& runtime, std::size_t index = 0) {
    return runtime.bound_endpoints().at(index).port;
}

Bytes concat(const Bytes& a, const Bytes& b) {
    Bytes out = a;
    out.insert(out.end(), b.begin(), b.end());
    return out;
}

}  // namespace

TEST_CASE("listen specs parse into protocol, address and port", "[engine][listener]") {
    const ListenSpec tcp = parse_listen_spec("tcp://127.0.0.1:4739");
    CHECK(tcp.protocol == ListenProtocol::kTcp);
    CHECK(tcp.address == "127.0.0.1");
    CHECK(tcp.port == 4739);

    const ListenSpec udp = parse_listen_spec("udp://[::1]:0");
    CHECK(udp.protocol == ListenProtocol::kUdp);
    CHECK(udp.address == "::1");
    CHECK(udp.port == 0);
    CHECK(to_string(udp) == "udp://[::1]:0");
    CHECK(to_string(parse_listen_spec("tcp://0.0.0.0:65535")) == "tcp://0.0.0.0:65535");
}

TEST_CASE("bad listen specs are refused with a reason", "[engine][listener]") {
    using Catch::Contains;
    CHECK_THROWS_AS(parse_listen_spec("sctp://127.0.0.1:4739"), std::invalid_argument);
    CHECK_THROWS_WITH(parse_listen_spec("sctp://127.0.0.1:4739"), Contains("unknown scheme"));
    CHECK_THROWS_WITH(parse_listen_spec("127.0.0.1:4739"), Contains("expected tcp://"));
    CHECK_THROWS_WITH(parse_listen_spec("tcp://127.0.0.1"), Contains("missing port"));
    CHECK_THROWS_WITH(parse_listen_spec("tcp://127.0.0.1:"), Contains("missing port"));
    CHECK_THROWS_WITH(parse_listen_spec("tcp://127.0.0.1:47x9"), Contains("bad port"));
    CHECK_THROWS_WITH(parse_listen_spec("tcp://127.0.0.1:70000"), Contains("over 65535"));
    CHECK_THROWS_WITH(parse_listen_spec("tcp://localhost:4739"), Contains("bad address"));
    CHECK_THROWS_WITH(parse_listen_spec("udp://300.1.1.1:4739"), Contains("bad address"));
    CHECK_THROWS_WITH(parse_listen_spec("udp://:4739"), Contains("bad address"));
    CHECK_THROWS_WITH(parse_listen_spec("tcp://::1:4739"), Contains("brackets"));
    CHECK_THROWS_WITH(parse_listen_spec("tcp://[::1:4739"), Contains("missing ']'"));
}

TEST_CASE("TCP Messages are framed across writes and reach the consumer",
          "[engine][listener][tcp]") {
    RecordingConsumer consumer;
    LogLines log;
    InputRuntime runtime(
        {parse_listen_spec("tcp://127.0.0.1:0")},
        [&](std::size_t) -> malfix::engine::MessageConsumer& { return consumer; }, log.options());
    REQUIRE(bound_port(runtime) != 0);
    runtime.start();

    TcpExporter exporter(bound_port(runtime));
    const Bytes first = ipfix_message(100, 0x31);
    const Bytes second = ipfix_message(300, 0x32);
    exporter.send(concat(first, Bytes(second.begin(), second.begin() + 10)));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the rest in a later read
    exporter.send(Bytes(second.begin() + 10, second.end()));
    exporter.send(ipfix_message(20));
    REQUIRE(wait_until([&] { return consumer.messages().size() == 3; }));
    exporter.close();
    REQUIRE(wait_until([&] { return consumer.closed().size() == 1; }));

    const auto messages = consumer.messages();
    CHECK(messages[0].length == 100);
    CHECK(messages[1].length == 300);
    CHECK(messages[1].head[20] == std::byte{0x32});
    CHECK(messages[2].length == 20);
    for (const auto& m : messages) {
        CHECK(m.exporter == exporter.name());
        CHECK(m.transport == Transport::kTcp);
    }
    CHECK(consumer.closed()[0] == exporter.name());
    const auto stats = runtime.stats();
    CHECK(stats.messages == 3);
    CHECK(stats.bytes == 420);
    CHECK(stats.connections_total == 1);
    CHECK(stats.connections_open == 0);
    CHECK(stats.closed(CloseReason::kPeerClosed) == 1);
    CHECK(log.contains("info: tcp:127.0.0.1:"));

    runtime.stop();
    runtime.wait();
}

TEST_CASE("two TCP exporters at once get a session each on two input threads",
          "[engine][listener][tcp]") {
    RecordingConsumer consumers[2];
    LogLines log;
    InputRuntime runtime(
        {parse_listen_spec("tcp://127.0.0.1:0")},
        [&](std::size_t i) -> malfix::engine::MessageConsumer& { return consumers[i]; },
        log.options(2));
    runtime.start();

    TcpExporter a(bound_port(runtime));
    TcpExporter b(bound_port(runtime));
    for (int i = 0; i < 10; ++i) {
        a.send(ipfix_message(64, 0xaa));
        b.send(ipfix_message(80, 0xbb));
    }
    const auto total = [&] {
        return consumers[0].messages().size() + consumers[1].messages().size();
    };
    REQUIRE(wait_until([&] { return total() == 20; }));

    // Round-robin: each thread got one connection, so each consumer saw one exporter only.
    for (const auto& consumer : consumers) {
        const auto messages = consumer.messages();
        REQUIRE(messages.size() == 10);
        const std::string expected = messages[0].length == 64 ? a.name() : b.name();
        for (const auto& m : messages) {
            CHECK(m.exporter == expected);
        }
    }
    CHECK(a.name() != b.name());
    CHECK(runtime.stats().connections_open == 2);

    runtime.stop();
    runtime.wait();
    // stop() closes the sessions still open.
    CHECK(consumers[0].closed().size() + consumers[1].closed().size() == 2);
    CHECK(runtime.stats().closed(CloseReason::kStopped) == 2);
    CHECK(runtime.stats().connections_open == 0);
}

TEST_CASE("a broken Message Header closes the TCP connection", "[engine][listener][tcp]") {
    RecordingConsumer consumer;
    LogLines log;
    InputRuntime runtime(
        {parse_listen_spec("tcp://127.0.0.1:0")},
        [&](std::size_t) -> malfix::engine::MessageConsumer& { return consumer; }, log.options());
    runtime.start();

    TcpExporter exporter(bound_port(runtime));
    Bytes bad = ipfix_message(40);
    bad[1] = std::byte{9};  // 00 09: a NetFlow v9 header where an IPFIX one belongs
    exporter.send(concat(ipfix_message(24), bad));
    CHECK(exporter.closed_by_peer());
    REQUIRE(wait_until([&] { return consumer.closed().size() == 1; }));

    CHECK(consumer.messages().size() == 1);
    CHECK(runtime.stats().closed(CloseReason::kBadHeader) == 1);
    CHECK(log.contains("warn: " + exporter.name() + ": closing: Version 9 is not 10"));
}

TEST_CASE("a Message the consumer rejects closes the TCP connection", "[engine][listener][tcp]") {
    RecordingConsumer consumer;
    consumer.reject_when([](std::size_t index, auto) { return index == 1; });
    LogLines log;
    InputRuntime runtime(
        {parse_listen_spec("tcp://127.0.0.1:0")},
        [&](std::size_t) -> malfix::engine::MessageConsumer& { return consumer; }, log.options());
    runtime.start();

    TcpExporter exporter(bound_port(runtime));
    exporter.send(concat(ipfix_message(24), concat(ipfix_message(24), ipfix_message(24))));
    CHECK(exporter.closed_by_peer());
    REQUIRE(wait_until([&] { return consumer.closed().size() == 1; }));

    CHECK(consumer.messages().size() == 2);  // the third is never handed on
    CHECK(runtime.stats().rejected == 1);
    CHECK(runtime.stats().closed(CloseReason::kRejected) == 1);
}

TEST_CASE("UDP datagrams yield whole Messages per sender", "[engine][listener][udp]") {
    RecordingConsumer consumer;
    LogLines log;
    InputRuntime runtime(
        {parse_listen_spec("udp://127.0.0.1:0"), parse_listen_spec("tcp://127.0.0.1:0")},
        [&](std::size_t) -> malfix::engine::MessageConsumer& { return consumer; }, log.options());
    const auto bound = runtime.bound_endpoints();
    REQUIRE(bound.size() == 2);
    CHECK(bound[0].protocol == ListenProtocol::kUdp);
    CHECK(bound[1].protocol == ListenProtocol::kTcp);
    runtime.start();

    asio::io_context io;
    Udp::socket a(io, Udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    Udp::socket b(io, Udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const Udp::endpoint target(asio::ip::make_address("127.0.0.1"), bound[0].port);
    a.send_to(asio::buffer(concat(ipfix_message(40), ipfix_message(60))), target);
    b.send_to(asio::buffer(ipfix_message(52)), target);
    Bytes netflow = ipfix_message(40);
    netflow[1] = std::byte{9};
    a.send_to(asio::buffer(netflow), target);
    Bytes cut = ipfix_message(40);
    cut.resize(30);
    a.send_to(asio::buffer(cut), target);
    a.send_to(asio::buffer(ipfix_message(20)), target);
    REQUIRE(wait_until([&] { return runtime.stats().udp_datagrams == 5; }));
    REQUIRE(wait_until([&] { return consumer.messages().size() == 4; }));

    const std::string name_a = "udp:127.0.0.1:" + std::to_string(a.local_endpoint().port());
    const std::string name_b = "udp:127.0.0.1:" + std::to_string(b.local_endpoint().port());
    std::size_t from_a = 0;
    for (const auto& m : consumer.messages()) {
        CHECK(m.transport == Transport::kUdp);
        CHECK((m.exporter == name_a || m.exporter == name_b));
        from_a += m.exporter == name_a ? 1 : 0;
    }
    CHECK(from_a == 3);
    const auto stats = runtime.stats();
    CHECK(stats.udp_unsupported_netflow == 1);
    CHECK(stats.udp_malformed == 1);
    CHECK(stats.udp_sessions_open == 2);
    CHECK(log.contains("warn: " + name_a + ": datagram dropped: Length 40 exceeds the datagram"));

    runtime.stop();
    runtime.wait();
    CHECK(consumer.closed().size() == 2);
    CHECK(runtime.stats().udp_sessions_open == 0);
}

TEST_CASE("idle input threads flush their consumer", "[engine][listener]") {
    RecordingConsumer consumer;
    LogLines log;
    InputRuntime runtime(
        {parse_listen_spec("udp://127.0.0.1:0")},
        [&](std::size_t) -> malfix::engine::MessageConsumer& { return consumer; }, log.options());
    runtime.start();
    CHECK(wait_until([&] { return consumer.flushes() >= 3; }));
    runtime.stop();
    runtime.wait();
}

TEST_CASE("a port already in use is refused at construction", "[engine][listener]") {
    RecordingConsumer consumer;
    LogLines log;
    const auto factory = [&](std::size_t) -> malfix::engine::MessageConsumer& { return consumer; };
    InputRuntime first({parse_listen_spec("tcp://127.0.0.1:0")}, factory, log.options());
    ListenSpec taken = first.bound_endpoints()[0];
    CHECK_THROWS_WITH(InputRuntime({taken}, factory, log.options()),
                      Catch::Contains(to_string(taken)));
}

TEST_CASE("stopping a runtime that never started is safe", "[engine][listener]") {
    RecordingConsumer consumer;
    LogLines log;
    InputRuntime runtime(
        {parse_listen_spec("tcp://127.0.0.1:0")},
        [&](std::size_t) -> malfix::engine::MessageConsumer& { return consumer; }, log.options());
    runtime.stop();
    runtime.wait();
    CHECK(runtime.stats().connections_total == 0);
}
