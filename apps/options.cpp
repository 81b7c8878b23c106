#include "apps/options.hpp"

#include "apps/config.hpp"

#include "malfix/version.hpp"
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <optional>
#include <set>
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

void add_ops_flags(CLI::App& app, Options& o);

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
    add_ops_flags(app, o);
}

// --- Configuration file and operations flags (issue 5) --------------------------------------

/// --metrics must name a TCP endpoint the server can bind.
std::string check_metrics_endpoint(const std::string& text) {
    if (!text.starts_with("tcp://")) {
        return "expected tcp://ADDR:PORT";
    }
    const std::size_t colon = text.rfind(':');
    if (colon <= 6 || colon + 1 == text.size()) {
        return "expected tcp://ADDR:PORT";
    }
    return {};
}

void add_ops_flags(CLI::App& app, Options& o) {
    app.set_config("--config", "",
                   "Read flags from a TOML file: one `flag = value` per line, the flag's long name "
                   "without --, lists as [\"a\", \"b\"]; flags given on the command line win")
        ->type_name("FILE");
    app.add_flag("--print-config", o.print_config,
                 "Print the effective configuration as TOML (a file --config reads) and exit")
        ->configurable(false);
    app.add_option("--metrics", o.metrics,
                   "Serve Prometheus metrics over HTTP at tcp://ADDR:PORT/metrics (port 0: any)")
        ->type_name("URL")
        ->check(check_metrics_endpoint);
    app.add_option("--log-format", o.log_format, "logfmt or json (one object per line), on stderr")
        ->check(CLI::IsMember({"logfmt", "json"}))
        ->capture_default_str();
}

/// Every key of the file must be a flag's long name (CLI11 would skip unknown keys quietly).
void check_config_keys(const CLI::App& app, const ConfigScan& scan) {
    std::set<std::string> known;
    for (const CLI::Option* option : app.get_options()) {
        if (!option->get_configurable()) {
            continue;
        }
        for (const std::string& name : option->get_lnames()) {
            known.insert(name);
        }
    }
    known.erase("help");
    known.erase("version");
    for (const ConfigEntry& entry : scan.entries()) {
        if (known.count(entry.key) == 0) {
            throw ConfigFileError(scan.where(entry.key) + "unknown key '" + entry.key +
                                  "' (keys are the long flag names of --help, without --)");
        }
    }
}

/// A CLI11 error, located in the configuration file when it is about a value the file set.
std::string parse_error_text(const CLI::ParseError& e, const ConfigScan* scan) {
    if (scan != nullptr) {
        const std::string key = scan->key_in_message(e.what());
        if (!key.empty()) {
            return scan->where(key) + "key '" + key + "': " + e.what();
        }
    }
    return e.what();
}

// ------------------------------------------------------------------------------------------

}  // namespace

int parse_options(int argc, const char* const* argv, Options& options) {
    CLI::App app{"malfix: finds known threats in IPFIX flow records", "malfix"};
    app.set_version_flag("--version", std::string("malfix ") + kVersion);
    add_flags(app, options);
    std::optional<ConfigScan> scan;
    try {
        if (const std::string path = find_config_flag(argc, argv); !path.empty()) {
            scan = ConfigScan::read(path);
            options.config_file = path;
            check_config_keys(app, *scan);
        }
        app.parse(argc, argv);
    } catch (const ConfigFileError& e) {
        std::cerr << "malfix: " << e.what() << '\n';
        return 2;
    } catch (const CLI::CallForHelp&) {
        std::cout << app.help();
        return 0;
    } catch (const CLI::CallForVersion& e) {
        std::cout << e.what() << '\n';
        return 0;
    } catch (const CLI::ParseError& e) {
        std::cerr << "malfix: " << parse_error_text(e, scan ? &*scan : nullptr)
                  << " (see --help)\n";
        return 2;
    }
    if (options.threads == 0) {
        options.threads = std::max(1U, std::thread::hardware_concurrency());
    }
    if (options.print_config) {
        std::cout << to_toml(options);
        return 0;
    }
    if (options.listen.empty() && options.read.empty()) {
        std::cerr << "malfix: nothing to do: give --listen and/or --read (see --help)\n";
        return 2;
    }
    if (options.intel.empty()) {
        std::cerr << "malfix: no threat intelligence: give --intel PATH (see --help)\n";
        return 2;
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
        {"config", o.config_file},
        {"metrics", o.metrics},
        {"log_format", o.log_format},
    };
}

// --- --print-config (issue 5) ---------------------------------------------------------------

namespace {

/// A TOML basic string. CLI11 2.1 strips the quotes without unescaping, so only text without
/// '"' and '\\' round-trips; such values are written as they are.
std::string toml_string(const std::string& text) {
    return '"' + text + '"';
}

void toml_list(std::string& out, std::string_view key, const std::vector<std::string>& items) {
    if (items.empty()) {
        out += "# " + std::string(key) + " = []\n";
        return;
    }
    out += std::string(key) + " = [";
    for (std::size_t i = 0; i < items.size(); ++i) {
        out += (i == 0 ? "" : ", ") + toml_string(items[i]);
    }
    out += "]\n";
}

}  // namespace

std::string to_toml(const Options& o) {
    std::string out = "# malfix " + std::string(kVersion) +
                      ": effective configuration (read it back with --config FILE)\n";
    toml_list(out, "listen", o.listen);
    toml_list(out, "read", o.read);
    toml_list(out, "intel", o.intel);
    toml_list(out, "whitelist", o.whitelist);
    toml_list(out, "output", o.outputs.empty() ? std::vector<std::string>{"json:-"} : o.outputs);
    out += "mode = " + toml_string(o.mode) + "\n";
    out += "threads = " + std::to_string(o.threads) + "\n";
    out += "input-threads = " + std::to_string(o.input_threads) + "\n";
    out += "stats-interval = " + seconds_text(o.stats_interval) + "\n";
    out += "template-timeout = " + std::to_string(o.template_timeout) + "\n";
    out += "template-refresh = " + std::to_string(o.template_refresh) + "\n";
    out += "log-level = " + toml_string(o.log_level) + "\n";
    out += "log-format = " + toml_string(o.log_format) + "\n";
    if (o.metrics.empty()) {
        out += "# metrics = \"tcp://127.0.0.1:9464\"\n";
    } else {
        out += "metrics = " + toml_string(o.metrics) + "\n";
    }
    toml_list(out, "kafka-property", masked_properties(o.kafka_properties));
    out += "kafka-connect-timeout = " + seconds_text(o.kafka_connect_timeout) + "\n";
    out += "kafka-flush-timeout = " + seconds_text(o.kafka_flush_timeout) + "\n";
    out += std::string("kafka-wait = ") + (o.kafka_wait ? "true" : "false") + "\n";
    return out;
}

}  // namespace malfix::apps
