#include "apps/options.hpp"

#include "malfix/version.hpp"
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <thread>

namespace malfix::apps {
namespace {

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) {
            out += ',';
        }
        out += item;
    }
    return out;
}

/// 10 -> "10", 0.5 -> "0.5": no trailing zeros in the configuration line.
std::string seconds_text(double seconds) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", seconds);
    return text;
}

/// Flags of the kafka:// outputs and inputs (sinks/KAFKA.md).
void add_kafka_flags(CLI::App& app, Options& o) {
    app.add_option("-X,--kafka-property", o.kafka_properties,
                   "librdkafka property KEY=VALUE for every Kafka client, as kcat -X (repeatable; "
                   "e.g. -X compression.type=lz4 -X security.protocol=SSL)")
        ->type_name("KEY=VALUE")
        ->check([](const std::string& text) {
            return text.find('=') == std::string::npos || text.front() == '='
                       ? std::string("expected KEY=VALUE")
                       : std::string();
        });
    app.add_option("--kafka-connect-timeout", o.kafka_connect_timeout,
                   "Seconds to wait for a Kafka broker at start-up before exiting with an error")
        ->check(CLI::Range(0.1, 3600.0))
        ->capture_default_str();
    app.add_option("--kafka-flush-timeout", o.kafka_flush_timeout,
                   "Seconds a flush (and shutdown) waits for outstanding Kafka deliveries")
        ->check(CLI::Range(0.0, 86400.0))
        ->capture_default_str();
    app.add_flag("--kafka-wait", o.kafka_wait,
                 "An unreachable Kafka broker at start-up is not an error: keep retrying");
}

/// -X values whose key names a secret (sasl.password, ssl.key.password, ...client.secret) are
/// shown as *** in the configuration line.
std::vector<std::string> masked_properties(const std::vector<std::string>& properties) {
    std::vector<std::string> out;
    for (const std::string& p : properties) {
        const std::string key = p.substr(0, p.find('='));
        const bool secret =
            key.find("password") != std::string::npos || key.find("secret") != std::string::npos;
        out.push_back(secret ? key + "=***" : p);
    }
    return out;
}

void add_flags(CLI::App& app, Options& o) {
    app.add_option("--listen", o.listen,
                   "Receive IPFIX: tcp://ADDR:PORT or udp://ADDR:PORT; or flows from Kafka: "
                   "kafka://BROKERS/TOPIC?group=NAME (repeatable)")
        ->type_name("URL");
    app.add_option("--read", o.read, "Read an IPFIX file or a pcap/pcapng capture (repeatable)")
        ->type_name("PATH");
    app.add_option("--intel", o.intel,
                   "Threat intelligence: Maltrail trails directory, trails.csv or trail file "
                   "(repeatable)")
        ->type_name("PATH");
    app.add_option("--whitelist", o.whitelist, "Maltrail-style whitelist file (repeatable)")
        ->type_name("PATH");
    app.add_option("--output", o.outputs,
                   "Where flows go: ipfix:PATH, ipfix+tcp://HOST:PORT, ipfix+udp://HOST:PORT, "
                   "json:PATH, json:- or kafka://BROKERS/TOPIC?format=protobuf|json|ipfix "
                   "(repeatable; default json:-)")
        ->type_name("SPEC");
    app.add_option("--mode", o.mode, "alert: only flows with hits leave; pipeline: all do")
        ->check(CLI::IsMember({"alert", "pipeline"}))
        ->capture_default_str();
    app.add_option("--threads", o.threads, "Matcher threads (default: number of cores)")
        ->check(CLI::Range(1, 1024));
    app.add_option("--input-threads", o.input_threads, "Threads that receive and decode")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    app.add_option("--stats-interval", o.stats_interval, "Seconds between stats lines, 0 = off")
        ->check(CLI::Range(0.0, 86400.0))
        ->capture_default_str();
    app.add_option("--template-timeout", o.template_timeout,
                   "Seconds a UDP exporter's template lives without a refresh")
        ->check(CLI::Range(1, 86400 * 7))
        ->capture_default_str();
    app.add_option("--template-refresh", o.template_refresh,
                   "Seconds between template resends on ipfix+udp outputs")
        ->check(CLI::Range(1, 86400))
        ->capture_default_str();
    app.add_option("--log-level", o.log_level, "debug, info, warn or error")
        ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
        ->capture_default_str();
    add_kafka_flags(app, o);
}

}  // namespace

int parse_options(int argc, const char* const* argv, Options& options) {
    CLI::App app{"malfix: finds known threats in IPFIX flow records", "malfix"};
    app.set_version_flag("--version", std::string("malfix ") + kVersion);
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
        std::cerr << "malfix: " << e.what() << " (see --help)\n";
        return 2;
    }
    if (options.listen.empty() && options.read.empty()) {
        std::cerr << "malfix: nothing to do: give --listen and/or --read (see --help)\n";
        return 2;
    }
    if (options.intel.empty()) {
        std::cerr << "malfix: no threat intelligence: give --intel PATH (see --help)\n";
        return 2;
    }
    if (options.threads == 0) {
        options.threads = std::max(1U, std::thread::hardware_concurrency());
    }
    if (options.outputs.empty()) {
        options.outputs.push_back("json:-");
    }
    return -1;
}

std::vector<std::pair<std::string, std::string>> describe(const Options& o) {
    return {
        {"listen", join(o.listen)},
        {"read", join(o.read)},
        {"intel", join(o.intel)},
        {"whitelist", join(o.whitelist)},
        {"output", join(o.outputs)},
        {"mode", o.mode},
        {"threads", std::to_string(o.threads)},
        {"input_threads", std::to_string(o.input_threads)},
        {"stats_interval", seconds_text(o.stats_interval)},
        {"template_timeout", std::to_string(o.template_timeout)},
        {"template_refresh", std::to_string(o.template_refresh)},
        {"log_level", o.log_level},
        {"kafka_properties", join(masked_properties(o.kafka_properties))},
        {"kafka_connect_timeout", seconds_text(o.kafka_connect_timeout)},
        {"kafka_flush_timeout", seconds_text(o.kafka_flush_timeout)},
        {"kafka_wait", o.kafka_wait ? "true" : "false"},
    };
}

}  // namespace malfix::apps
