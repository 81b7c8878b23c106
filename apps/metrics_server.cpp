#include "apps/metrics_server.hpp"

#include "engine/listener.hpp"
#include "engine/log.hpp"
#include "sinks/kafka_output.hpp"

#include "malfix/version.hpp"
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <cstdio>
#include <istream>
#include <stdexcept>
#include <thread>

namespace malfix::apps {

// --- The text format --------------------------------------------------------------------------

void MetricsText::family(std::string_view name, std::string_view type, std::string_view help) {
    text_ += "# HELP ";
    text_ += name;
    text_ += ' ';
    text_ += help;
    text_ += "\n# TYPE ";
    text_ += name;
    text_ += ' ';
    text_ += type;
    text_ += '\n';
}

void MetricsText::begin_sample(std::string_view name, Labels labels) {
    text_ += name;
    if (labels.size() == 0) {
        text_ += ' ';
        return;
    }
    char separator = '{';
    for (const auto& [key, value] : labels) {
        text_ += separator;
        separator = ',';
        text_ += key;
        text_ += "=\"";
        // Label values escape backslash, double quote and line feed (exposition format 0.0.4).
        for (char c : value) {
            if (c == '\\' || c == '"') {
                text_ += '\\';
                text_ += c;
            } else if (c == '\n') {
                text_ += "\\n";
            } else {
                text_ += c;
            }
        }
        text_ += '"';
    }
    text_ += "} ";
}

void MetricsText::sample(std::string_view name, Labels labels, double value) {
    begin_sample(name, labels);
    char number[48];
    std::snprintf(number, sizeof number, "%.17g", value);
    text_ += number;
    text_ += '\n';
}

void MetricsText::sample(std::string_view name, Labels labels, std::uint64_t value) {
    begin_sample(name, labels);
    text_ += std::to_string(value);
    text_ += '\n';
}

// --- The HTTP endpoint --------------------------------------------------------------------------

namespace {

namespace asio = boost::asio;
using Tcp = asio::ip::tcp;

/// Request line and headers beyond this are no scrape: the connection is closed.
constexpr std::size_t kMaxRequest = 8192;
constexpr auto kRequestTimeout = std::chrono::seconds{10};

std::string http_response(int status, std::string_view reason, std::string_view type,
                          std::string_view body) {
    std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
    out += "Content-Type: " + std::string(type) + "\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    out += "Connection: close\r\n\r\n";
    out += body;
    return out;
}

/// One connection: read the request head, answer, close. Owned by its handlers.
class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(Tcp::socket socket, const MetricsServer::Render& render)
        : socket_(std::move(socket)),
          timer_(socket_.get_executor()),
          buffer_(kMaxRequest),
          render_(render) {}

    void start() {
        timer_.expires_after(kRequestTimeout);
        timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec) {
                boost::system::error_code ignored;
                self->socket_.close(ignored);
            }
        });
        asio::async_read_until(socket_, buffer_, "\r\n\r\n",
                               [self = shared_from_this()](boost::system::error_code ec,
                                                           std::size_t) { self->on_head(ec); });
    }

private:
    void on_head(boost::system::error_code ec) {
        if (ec) {
            timer_.cancel();
            return;  // closed, timed out, or a head longer than kMaxRequest
        }
        std::istream in(&buffer_);
        std::string method;
        std::string target;
        in >> method >> target;
        const std::size_t query = target.find('?');
        const std::string path = target.substr(0, query);
        if (method == "GET" && path == "/metrics") {
            response_ = render_response();
        } else {
            response_ = http_response(404, "Not Found", "text/plain; charset=utf-8",
                                      "not found: malfix serves GET /metrics\n");
        }
        asio::async_write(socket_, asio::buffer(response_),
                          [self = shared_from_this()](boost::system::error_code, std::size_t) {
                              boost::system::error_code ignored;
                              self->socket_.shutdown(Tcp::socket::shutdown_both, ignored);
                              self->socket_.close(ignored);
                              self->timer_.cancel();
                          });
    }

    /// A failure to render must not end the server thread (an exception would leave run()).
    std::string render_response() {
        try {
            return http_response(200, "OK", "text/plain; version=0.0.4; charset=utf-8", render_());
        } catch (const std::exception& e) {
            return http_response(500, "Internal Server Error", "text/plain; charset=utf-8",
                                 std::string(e.what()) + "\n");
        }
    }

    Tcp::socket socket_;
    asio::steady_timer timer_;
    asio::streambuf buffer_;
    const MetricsServer::Render& render_;
    std::string response_;
};

}  // namespace

struct MetricsServer::Impl {
    Impl(const engine::ListenSpec& spec, Render r) : acceptor(io), render(std::move(r)) {
        const Tcp::endpoint endpoint(asio::ip::make_address(spec.address), spec.port);
        acceptor.open(endpoint.protocol());
        acceptor.set_option(Tcp::acceptor::reuse_address(true));
        acceptor.bind(endpoint);
        acceptor.listen();
    }

    void accept() {
        acceptor.async_accept([this](boost::system::error_code ec, Tcp::socket socket) {
            if (ec == asio::error::operation_aborted) {
                return;
            }
            if (!ec) {
                std::make_shared<Connection>(std::move(socket), render)->start();
            }
            accept();
        });
    }

    asio::io_context io;
    Tcp::acceptor acceptor;
    Render render;
    std::thread thread;
};

MetricsServer::MetricsServer(const std::string& endpoint, Render render) {
    engine::ListenSpec spec = engine::parse_listen_spec(endpoint);
    if (spec.protocol != engine::ListenProtocol::kTcp) {
        throw std::invalid_argument("--metrics " + endpoint + ": expected tcp://ADDR:PORT");
    }
    try {
        impl_ = std::make_unique<Impl>(spec, std::move(render));
    } catch (const boost::system::system_error& e) {
        throw std::runtime_error("--metrics " + endpoint +
                                 ": cannot listen: " + e.code().message());
    }
    impl_->accept();
    impl_->thread = std::thread([this] { impl_->io.run(); });
}

MetricsServer::~MetricsServer() {
    impl_->io.stop();
    impl_->thread.join();
}

std::string MetricsServer::bound() const {
    const Tcp::endpoint local = impl_->acceptor.local_endpoint();
    engine::ListenSpec spec;
    spec.protocol = engine::ListenProtocol::kTcp;
    spec.address = local.address().to_string();
    spec.port = local.port();
    return engine::to_string(spec);
}

// --- malfix's figures ---------------------------------------------------------------------------

namespace {

void input_metrics(MetricsText& m, const MetricsSources& src, const engine::PipelineStats& s) {
    m.family("malfix_messages_total", "counter", "IPFIX Messages decoded.");
    m.sample("malfix_messages_total", {}, s.messages);
    m.family("malfix_messages_rejected_total", "counter", "IPFIX Messages rejected as malformed.");
    m.sample("malfix_messages_rejected_total", {}, s.messages_rejected);

    m.family("malfix_flows_in_total", "counter", "Flows (Data Records) decoded, per input.");
    for (const MetricsInput& input : src.inputs) {
        m.sample("malfix_flows_in_total", {{"input", input.name}},
                 input.dispatcher->counters().flows.load(std::memory_order_relaxed));
    }
    m.family("malfix_exporter_flows_in_total", "counter",
             "Flows (Data Records) decoded, per input and exporter (transport session peer or "
             "file); past 1024 exporters per input the rest count as \"other\".");
    for (const MetricsInput& input : src.inputs) {
        for (const auto& [exporter, flows] : input.dispatcher->exporter_flows()) {
            m.sample("malfix_exporter_flows_in_total",
                     {{"input", input.name}, {"exporter", exporter}}, flows);
        }
    }
}

void output_metrics(MetricsText& m, const engine::Pipeline& pipeline,
                    const engine::PipelineStats& s) {
    m.family("malfix_flows_out_total", "counter", "Flows written, per output.");
    for (const auto& output : pipeline.outputs()) {
        m.sample("malfix_flows_out_total", {{"output", output->name()}}, output->stats().flows);
    }
    m.family("malfix_forwarded_flows_total", "counter",
             "Flows the serializer handed to the outputs.");
    m.sample("malfix_forwarded_flows_total", {}, s.flows_out);
    m.family("malfix_output_errors_total", "counter", "Write failures, per output.");
    for (const auto& output : pipeline.outputs()) {
        m.sample("malfix_output_errors_total", {{"output", output->name()}},
                 output->stats().errors);
    }
    m.family("malfix_output_dropped_flows_total", "counter",
             "Flows an output could not write, per output.");
    for (const auto& output : pipeline.outputs()) {
        m.sample("malfix_output_dropped_flows_total", {{"output", output->name()}},
                 output->stats().dropped);
    }

    m.family("malfix_kafka_deliveries_total", "counter",
             "Kafka records the broker acknowledged, per kafka:// output.");
    m.family("malfix_kafka_delivery_failures_total", "counter",
             "Kafka records whose delivery failed for good, per kafka:// output.");
    for (const auto& output : pipeline.outputs()) {
        if (const auto* kafka = dynamic_cast<const sinks::KafkaOutput*>(output.get())) {
            const sinks::KafkaOutputStats k = kafka->kafka_stats();
            m.sample("malfix_kafka_deliveries_total", {{"output", output->name()}}, k.delivered);
            m.sample("malfix_kafka_delivery_failures_total", {{"output", output->name()}},
                     k.failed);
        }
    }
}

void hit_metrics(MetricsText& m, const engine::PipelineStats& s, const intel::Snapshot* snap) {
    m.family("malfix_flows_with_hits_total", "counter", "Flows with at least one hit.");
    m.sample("malfix_flows_with_hits_total", {}, s.flows_with_hits);
    m.family("malfix_hits_total", "counter", "Hits, per type (IP, IPORT, DNS).");
    m.sample("malfix_hits_total", {{"type", "IP"}}, s.hits_ip);
    m.sample("malfix_hits_total", {{"type", "IPORT"}}, s.hits_ip_port);
    m.sample("malfix_hits_total", {{"type", "DNS"}}, s.hits_dns);

    m.family("malfix_feed_hits_total", "counter",
             "Hits, per feed of the current snapshot (feeds past the 64th count as \"other\").");
    const std::size_t feeds = snap != nullptr ? snap->feeds().size() : 0;
    for (std::size_t f = 0; f < engine::kFeedSlots && f < feeds; ++f) {
        m.sample("malfix_feed_hits_total", {{"feed", snap->feeds()[f].name}}, s.hits_by_feed[f]);
    }
    if (feeds > engine::kFeedSlots || s.hits_by_feed[engine::kOtherFeed] != 0) {
        m.sample("malfix_feed_hits_total", {{"feed", "other"}}, s.hits_by_feed[engine::kOtherFeed]);
    }
}

/// The same reasons, with the same names, as the drops field of the stats line.
void drop_metrics(MetricsText& m, const MetricsSources& src, const engine::PipelineStats& s) {
    if (src.network != nullptr) {
        src.drops->set_network(src.network->stats());
    }
    m.family("malfix_drops_total", "counter",
             "Records, Messages, datagrams or flows dropped, per reason (as the stats line).");
    for (std::size_t i = 0; i < s.drops.size(); ++i) {
        m.sample("malfix_drops_total",
                 {{"reason", ipfix::reason_name(static_cast<ipfix::DropReason>(i))}}, s.drops[i]);
    }
    m.sample("malfix_drops_total", {{"reason", "queue_full"}}, s.queue_full_drops);
    for (std::size_t r = 0; r < InputDrops::kCount; ++r) {
        const auto reason = static_cast<InputDrops::Reason>(r);
        m.sample("malfix_drops_total", {{"reason", InputDrops::name(reason)}},
                 src.drops->get(reason));
    }
}

void queue_metrics(MetricsText& m, const engine::PipelineStats& s) {
    m.family("malfix_queue_depth", "gauge", "Batches waiting in a queue.");
    for (std::size_t i = 0; i < s.matcher_queue_depth.size(); ++i) {
        m.sample("malfix_queue_depth", {{"queue", "matcher-" + std::to_string(i)}},
                 s.matcher_queue_depth[i]);
    }
    m.sample("malfix_queue_depth", {{"queue", "serializer"}}, s.serializer_queue_depth);
    m.family("malfix_batches_in_use", "gauge", "Flow batches taken from the pool.");
    m.sample("malfix_batches_in_use", {}, static_cast<std::uint64_t>(s.batches_in_use));
}

void intel_metrics(MetricsText& m, const MetricsSources& src, const intel::Snapshot* snap) {
    m.family("malfix_snapshot_indicators", "gauge", "Indicators in the current snapshot.");
    m.sample("malfix_snapshot_indicators", {},
             static_cast<std::uint64_t>(snap != nullptr ? snap->size() : 0));
    const std::int64_t loaded = src.intel_status->loaded_unix_ms.load();
    const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    m.family("malfix_snapshot_loaded_timestamp_seconds", "gauge",
             "Unix time the current snapshot was built.");
    m.sample("malfix_snapshot_loaded_timestamp_seconds", {}, static_cast<double>(loaded) / 1000);
    m.family("malfix_snapshot_age_seconds", "gauge",
             "Seconds since the current snapshot was built.");
    m.sample("malfix_snapshot_age_seconds", {}, static_cast<double>(now - loaded) / 1000);
    m.family("malfix_snapshot_reloads_total", "counter",
             "Reloads of the threat intelligence (SIGHUP), per result.");
    m.sample("malfix_snapshot_reloads_total", {{"result", "ok"}}, src.intel_status->reloads.load());
    m.sample("malfix_snapshot_reloads_total", {{"result", "failed"}},
             src.intel_status->reload_failures.load());
}

}  // namespace

std::string render_metrics(const MetricsSources& src) {
    const engine::PipelineStats s = src.pipeline->stats();
    const std::shared_ptr<const intel::Snapshot> snap = src.intel->current();
    MetricsText m;
    m.family("malfix_build_info", "gauge", "Always 1; the version is a label.");
    m.sample("malfix_build_info", {{"version", kVersion}}, std::uint64_t{1});
    input_metrics(m, src, s);
    output_metrics(m, *src.pipeline, s);
    hit_metrics(m, s, snap.get());
    drop_metrics(m, src, s);
    queue_metrics(m, s);
    intel_metrics(m, src, snap.get());
    if (src.network != nullptr) {
        const engine::ListenerStats n = src.network->stats();
        m.family("malfix_tcp_connections_open", "gauge", "IPFIX exporters connected over TCP.");
        m.sample("malfix_tcp_connections_open", {}, n.connections_open);
        m.family("malfix_udp_sessions_open", "gauge", "UDP Transport Sessions held.");
        m.sample("malfix_udp_sessions_open", {}, n.udp_sessions_open);
    }
    return m.text();
}

}  // namespace malfix::apps
