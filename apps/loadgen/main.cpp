// malfix-loadgen: generates the MalFIX benchmark's traffic mixes as IPFIX and sends them to a
// collector (TCP or UDP) or into a file; or acts as the counting collector at the other end.
#include "apps/loadgen/collector.hpp"
#include "apps/loadgen/flow_generator.hpp"
#include "apps/loadgen/message_pool.hpp"
#include "apps/loadgen/sender.hpp"
#include "apps/loadgen/trail_pool.hpp"
#include "engine/log.hpp"

#include "malfix/version.hpp"
#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

namespace {

using namespace malfix::loadgen;
using malfix::engine::LogLevel;
using Clock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int /*signal*/) {
    g_stop.store(true);
}

struct Options {
    std::string mix;
    std::string trails;
    std::uint64_t flows = 0;
    double duration = 0;
    std::uint64_t seed = 1;
    double ipv6_share = 0.1;
    std::string dns = "yaf";
    std::size_t message_size = 0;
    std::size_t pool_mb = 32;
    std::uint32_t odid = 1;
    std::uint64_t start_time_ms = 0;
    std::string write;
    std::string connect;
    std::size_t connections = 1;
    double rate = 0;
    double template_interval = 5;
    std::string collect;
    bool discard = false;
    double interval = 0;
};

void add_flags(CLI::App& app, Options& o) {
    app.add_option("--mix", o.mix, "malicious-ip, malicious-dns, benign-dns5 or mixed10")
        ->check(CLI::IsMember({"malicious-ip", "malicious-dns", "benign-dns5", "mixed10"}));
    app.add_option("--trails", o.trails,
                   "Maltrail trails directory, trail file or trails.csv to draw from")
        ->type_name("PATH");
    app.add_option("--flows", o.flows, "Flows to send or write (over all connections)");
    app.add_option("--duration", o.duration, "Seconds to send, or to collect")
        ->check(CLI::Range(0.0, 86400.0));
    app.add_option("--seed", o.seed, "Random seed; the same seed gives the same stream")
        ->capture_default_str();
    app.add_option("--ipv6-share", o.ipv6_share, "Share of IPv6 flows")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    app.add_option("--dns", o.dns, "yaf: yaf's DPI lists; flat: MalFIX's 420/1 dnsName")
        ->check(CLI::IsMember({"yaf", "flat"}))
        ->capture_default_str();
    app.add_option("--message-size", o.message_size,
                   "Largest Message in bytes (default 8192, 1400 over UDP)")
        ->check(CLI::Range(512, 65535));
    app.add_option("--pool-mb", o.pool_mb, "Megabytes of Messages encoded ahead and cycled")
        ->check(CLI::Range(1, 4096))
        ->capture_default_str();
    app.add_option("--observation-domain", o.odid, "Observation Domain ID")->capture_default_str();
    app.add_option("--start-time-ms", o.start_time_ms,
                   "Flow times start here, Unix ms (default: now; 2024-01-01 with --write)");
    app.add_option("--write", o.write, "Write the stream into an IPFIX file")->type_name("FILE");
    app.add_option("--connect", o.connect, "Send to tcp://HOST:PORT or udp://HOST:PORT")
        ->type_name("URL");
    app.add_option("--connections", o.connections, "Parallel connections, one thread each")
        ->check(CLI::Range(1, 1024))
        ->capture_default_str();
    app.add_option("--rate", o.rate,
                   "Flows per second over all connections (0: as fast as "
                   "the receiver accepts; required for UDP)")
        ->check(CLI::Range(0.0, 1e10));
    app.add_option("--template-interval", o.template_interval,
                   "UDP: seconds between Template resends")
        ->check(CLI::Range(0.1, 3600.0))
        ->capture_default_str();
    app.add_option("--collect", o.collect, "Be a counting collector on tcp://ADDR:PORT")
        ->type_name("URL");
    app.add_flag("--discard", o.discard, "Collector: read and count bytes only, never decode");
    app.add_option("--interval", o.interval, "Collector: seconds between progress lines (0: none)")
        ->check(CLI::Range(0.0, 3600.0));
}

std::string fixed(double value, int decimals) {
    std::ostringstream out;
    out.setf(std::ios::fixed);
    out.precision(decimals);
    out << value;
    return out.str();
}

int run_collector(const Options& o) {
    const std::optional<Url> url = parse_url(o.collect);
    if (!url || url->udp) {
        std::cerr << "malfix-loadgen: --collect wants tcp://ADDR:PORT\n";
        return 2;
    }
    Collector collector({*url, o.discard});
    std::cout << "listening " << collector.address().text() << std::endl;

    std::atomic<bool> stop_collector{false};
    std::thread worker([&] { collector.run(stop_collector); });
    const auto start = Clock::now();
    auto next_report = start + std::chrono::duration<double>(o.interval);
    CollectorTotals last;
    while (!g_stop.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        const auto now = Clock::now();
        if (o.duration > 0 && now - start >= std::chrono::duration<double>(o.duration)) {
            break;
        }
        if (o.interval > 0 && now >= next_report) {
            const CollectorTotals t = collector.totals();
            std::cout << "{\"t\":" << fixed(std::chrono::duration<double>(now - start).count(), 2)
                      << ",\"records\":" << t.records << ",\"bytes\":" << t.bytes
                      << ",\"records_per_s\":"
                      << fixed(double(t.records - last.records) / o.interval, 0)
                      << ",\"bytes_per_s\":" << fixed(double(t.bytes - last.bytes) / o.interval, 0)
                      << "}" << std::endl;
            last = t;
            next_report += std::chrono::duration<double>(o.interval);
        }
    }
    stop_collector.store(true);
    worker.join();
    const CollectorTotals t = collector.totals();
    const double rate = t.active_seconds > 0 ? double(t.records) / t.active_seconds : 0;
    std::cout << "{\"mode\":\"" << (o.discard ? "discard" : "collect")
              << "\",\"connections\":" << t.connections << ",\"messages\":" << t.messages
              << ",\"records\":" << t.records << ",\"options_records\":" << t.options_records
              << ",\"rejected\":" << t.rejected << ",\"bytes\":" << t.bytes
              << ",\"seconds\":" << fixed(t.active_seconds, 3)
              << ",\"records_per_s\":" << fixed(rate, 0) << ",\"bytes_per_s\":"
              << fixed(t.active_seconds > 0 ? double(t.bytes) / t.active_seconds : 0, 0) << "}"
              << std::endl;
    return 0;
}

std::uint64_t now_ms() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

int run_generator(const Options& o) {
    const bool to_file = !o.write.empty();
    std::optional<Url> url;
    if (!to_file) {
        url = parse_url(o.connect);
        if (!url) {
            std::cerr << "malfix-loadgen: --connect wants tcp://HOST:PORT or udp://HOST:PORT "
                         "with a literal address\n";
            return 2;
        }
        if (url->udp && o.rate <= 0) {
            std::cerr << "malfix-loadgen: UDP has no back-pressure: give --rate\n";
            return 2;
        }
    }
    if (o.flows == 0 && (to_file || o.duration <= 0)) {
        std::cerr << "malfix-loadgen: give --flows" << (to_file ? "" : " or --duration") << "\n";
        return 2;
    }

    const auto build_start = Clock::now();
    const std::shared_ptr<const TrailPool> trails = TrailPool::load(o.trails);
    const TrailCounts& c = trails->counts();
    malfix::engine::log(LogLevel::kInfo, "trails loaded",
                        {{"path", o.trails},
                         {"ipv4", std::to_string(c.v4)},
                         {"ipv6", std::to_string(c.v6)},
                         {"ip_port", std::to_string(c.v4_port + c.v6_port)},
                         {"cidr", std::to_string(c.v4_cidr + c.v6_cidr)},
                         {"domains", std::to_string(c.domains)},
                         {"snapshot", std::to_string(trails->snapshot().size())}});

    GeneratorConfig gen_config;
    gen_config.mix = *parse_mix(o.mix);
    gen_config.ipv6_share = o.ipv6_share;
    gen_config.seed = o.seed;
    if (o.start_time_ms != 0) {
        gen_config.base_time_ms = o.start_time_ms;
    } else if (!to_file) {
        gen_config.base_time_ms = now_ms();
    }
    FlowGenerator generator(*trails, gen_config);

    PoolConfig pool_config;
    pool_config.dns = o.dns == "flat" ? DnsEncoding::kFlat : DnsEncoding::kYaf;
    pool_config.max_message_size = o.message_size != 0 ? o.message_size
                                   : (url && url->udp) ? 1400
                                                       : 8192;
    pool_config.observation_domain = o.odid;
    pool_config.max_flows = o.flows != 0 ? o.flows : UINT64_MAX;
    pool_config.max_bytes = o.pool_mb << 20;
    const MessagePool pool(generator, pool_config);
    const double build_seconds = std::chrono::duration<double>(Clock::now() - build_start).count();
    const PoolStats& s = pool.stats();
    malfix::engine::log(LogLevel::kInfo, "pool built",
                        {{"mix", o.mix},
                         {"flows", std::to_string(s.flows)},
                         {"messages", std::to_string(pool.size())},
                         {"bytes", std::to_string(pool.bytes())},
                         {"ipv6_fallbacks", std::to_string(generator.ipv6_fallbacks())},
                         {"seconds", fixed(build_seconds, 2)}});

    SendStats sent;
    if (to_file) {
        sent = write_stream(pool, o.flows,
                            static_cast<std::uint32_t>(gen_config.base_time_ms / 1000), o.write);
    } else {
        SendConfig send_config;
        send_config.target = *url;
        send_config.connections = o.connections;
        send_config.rate = o.rate;
        send_config.flows = o.flows;
        send_config.duration = o.duration;
        send_config.template_interval = o.template_interval;
        sent = send_stream(pool, send_config, g_stop);
    }
    if (!sent.error.empty()) {
        malfix::engine::log(LogLevel::kError, "send failed", {{"reason", sent.error}});
    }
    const double rate = sent.seconds > 0 ? double(sent.flows) / sent.seconds : 0;
    std::cout << "{\"mode\":\"" << (to_file ? "write" : "send") << "\",\"mix\":\"" << o.mix
              << "\",\"dns\":\"" << o.dns << "\",\"transport\":\""
              << (to_file ? "file" : (url->udp ? "udp" : "tcp"))
              << "\",\"connections\":" << (to_file ? 1 : o.connections)
              << ",\"flows_sent\":" << sent.flows << ",\"messages\":" << sent.messages
              << ",\"bytes\":" << sent.bytes << ",\"seconds\":" << fixed(sent.seconds, 3)
              << ",\"flows_per_s\":" << fixed(rate, 0) << ",\"pool_flows\":" << s.flows
              << ",\"pool_benign\":" << s.benign << ",\"pool_benign_dns\":" << s.benign_dns
              << ",\"pool_malicious_ip\":" << s.malicious_ip
              << ",\"pool_malicious_dns\":" << s.malicious_dns << ",\"pool_ipv6\":" << s.ipv6
              << ",\"build_seconds\":" << fixed(build_seconds, 3)
              << ",\"error\":" << (sent.error.empty() ? "null" : "\"" + sent.error + "\"") << "}"
              << std::endl;
    return sent.error.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"malfix-loadgen: MalFIX benchmark traffic as IPFIX, and a counting collector",
                 "malfix-loadgen"};
    app.set_version_flag("--version", std::string("malfix-loadgen ") + malfix::kVersion);
    Options options;
    add_flags(app, options);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        std::cout << app.help();
        return 0;
    } catch (const CLI::CallForVersion& e) {
        std::cout << e.what() << '\n';
        return 0;
    } catch (const CLI::ParseError& e) {
        std::cerr << "malfix-loadgen: " << e.what() << " (see --help)\n";
        return 2;
    }
    const int modes = (options.collect.empty() ? 0 : 1) + (options.write.empty() ? 0 : 1) +
                      (options.connect.empty() ? 0 : 1);
    if (modes != 1) {
        std::cerr << "malfix-loadgen: give exactly one of --connect, --write, --collect\n";
        return 2;
    }
    if (options.collect.empty() && (options.mix.empty() || options.trails.empty())) {
        std::cerr << "malfix-loadgen: generating needs --mix and --trails\n";
        return 2;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGPIPE, SIG_IGN);
    try {
        return options.collect.empty() ? run_generator(options) : run_collector(options);
    } catch (const std::exception& e) {
        std::cerr << "malfix-loadgen: " << e.what() << '\n';
        return 1;
    }
}
