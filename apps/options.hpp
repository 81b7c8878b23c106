#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace malfix::apps {

/// Everything the malfix command line says, before any of it is acted on.
struct Options {
    std::vector<std::string> listen;  ///< tcp://ADDR:PORT, udp://ADDR:PORT, kafka://B/TOPIC
    std::vector<std::string> read;    ///< IPFIX files and pcap/pcapng captures
    std::vector<std::string> intel;   ///< trails directories, trails.csv, trail files
    std::vector<std::string> whitelist;
    std::vector<std::string> outputs;  ///< ipfix:PATH, ipfix+tcp://, ipfix+udp://, json:PATH
    std::string mode = "alert";
    std::size_t threads = 0;  ///< matcher threads; 0 until defaulted to the cores
    std::size_t input_threads = 1;
    double stats_interval = 10.0;  ///< seconds between stats lines; 0 turns them off
    std::int64_t template_timeout = 1800;
    std::int64_t template_refresh = 60;
    std::string log_level = "info";

    // --- Kafka (kafka:// outputs and inputs) ---
    std::vector<std::string> kafka_properties;  ///< -X KEY=VALUE, librdkafka properties
    double kafka_connect_timeout = 10.0;        ///< seconds to wait for a broker at start-up
    double kafka_flush_timeout = 30.0;          ///< seconds a flush waits for deliveries
    bool kafka_wait = false;                    ///< keep retrying an unreachable broker

    // --- Operations (issue 5) ---
    std::string config_file;            ///< --config: TOML file of flags (command line wins)
    bool print_config = false;          ///< write the effective configuration as TOML, exit 0
    std::string metrics;                ///< tcp://ADDR:PORT serving /metrics; empty: none
    std::string log_format = "logfmt";  ///< logfmt or json, on stderr

    /// Only files to read: run as a batch and exit when they are done.
    bool batch() const { return listen.empty(); }
};

/// Parses argv. Returns -1 when malfix should run, otherwise the exit status to leave with
/// (0 after --help or --version, 2 after a usage error, whose one-line reason went to stderr).
int parse_options(int argc, const char* const* argv, Options& options);

/// The effective configuration as key=value pairs, for the start-up log line.
std::vector<std::pair<std::string, std::string>> describe(const Options& options);

/// The effective configuration as a TOML file that --config reads back (--print-config).
/// Secret Kafka properties are masked, as in the start-up log line.
std::string to_toml(const Options& options);

}  // namespace malfix::apps
