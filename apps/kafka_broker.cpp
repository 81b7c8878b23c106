// malfix-kafka-broker: a Kafka cluster for tests and benchmarks, on the loopback only.
//
// It hosts librdkafka's mock cluster (rdkafka_mock.h), which speaks the Kafka wire protocol
// well enough for producers (idempotent ones included), consumers and consumer groups.
// Protocol:
//   stdout, first line: the bootstrap address list ("127.0.0.1:PORT[,...]"); then one answer per
//                       command: "ok" or "error: REASON".
//   stdin, one command per line:
//     down N | down all   disconnect broker N (1-based) and refuse new connections
//     up N | up all       accept connections again
//     topic NAME:PARTS    create a topic (also --topic at start-up)
//     quit                stop (end of input does the same)
// Topics that are not created up front are created on first use with the mock cluster's
// default of 4 partitions (librdkafka 2.0 offers no way to change it).
// Not a real broker: data lives in memory and is gone when the program ends.

#include <CLI/CLI.hpp>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

/// Partitions of a topic created without a count (the mock cluster's own auto-create default).
constexpr int kDefaultPartitions = 4;

struct BrokerOptions {
    int brokers = 1;
    std::vector<std::string> topics;
};

/// "NAME:PARTITIONS" or "NAME" (default partitions); returns an error text, empty when made.
std::string create_topic(rd_kafka_mock_cluster_t* cluster, const std::string& spec,
                         int default_partitions) {
    std::string name = spec;
    int partitions = default_partitions;
    if (const std::size_t colon = spec.rfind(':'); colon != std::string::npos) {
        name = spec.substr(0, colon);
        try {
            partitions = std::stoi(spec.substr(colon + 1));
        } catch (const std::exception&) {
            partitions = 0;
        }
    }
    if (name.empty() || partitions < 1 || partitions > 1000) {
        return "bad topic '" + spec + "' (expected NAME:PARTITIONS, 1-1000 partitions)";
    }
    const rd_kafka_resp_err_t err =
        rd_kafka_mock_topic_create(cluster, name.c_str(), partitions, 1);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return std::string("cannot create topic '") + name + "': " + rd_kafka_err2str(err);
    }
    return {};
}

/// Runs one command; returns the answer line, or an empty string for quit.
std::string run_command(rd_kafka_mock_cluster_t* cluster, const BrokerOptions& options,
                        const std::string& line) {
    std::istringstream in(line);
    std::string verb;
    std::string arg;
    in >> verb >> arg;
    if (verb == "quit") {
        return {};
    }
    if (verb == "down" || verb == "up") {
        int id = -1;
        if (arg != "all") {
            try {
                id = std::stoi(arg);
            } catch (const std::exception&) {
                return "error: expected '" + verb + " N' or '" + verb + " all'";
            }
            if (id < 1 || id > options.brokers) {
                return "error: no broker " + arg + " (1-" + std::to_string(options.brokers) + ")";
            }
        }
        const rd_kafka_resp_err_t err = verb == "down" ? rd_kafka_mock_broker_set_down(cluster, id)
                                                       : rd_kafka_mock_broker_set_up(cluster, id);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            return std::string("error: ") + rd_kafka_err2str(err);
        }
        return "ok";
    }
    if (verb == "topic") {
        const std::string error = create_topic(cluster, arg, kDefaultPartitions);
        return error.empty() ? "ok" : "error: " + error;
    }
    return "error: unknown command '" + verb + "' (down N, up N, topic NAME:PARTS, quit)";
}

}  // namespace

int main(int argc, char** argv) {
    BrokerOptions options;
    CLI::App app{"malfix-kafka-broker: librdkafka's mock Kafka cluster on 127.0.0.1, for tests",
                 "malfix-kafka-broker"};
    app.add_option("--brokers", options.brokers, "Brokers in the cluster")
        ->check(CLI::Range(1, 16))
        ->capture_default_str();
    app.add_option("--topic", options.topics, "Create NAME:PARTITIONS at start (repeatable)");
    CLI11_PARSE(app, argc, argv);
    signal(SIGPIPE, SIG_IGN);

    // The mock cluster needs a client instance for its bookkeeping; it serves any client.
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char error[512];
    if (rd_kafka_conf_set(conf, "log_level", "3", error, sizeof error) != RD_KAFKA_CONF_OK) {
        std::fprintf(stderr, "malfix-kafka-broker: %s\n", error);
        return 1;
    }
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (rk == nullptr) {
        std::fprintf(stderr, "malfix-kafka-broker: %s\n", error);
        return 1;
    }
    rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, options.brokers);
    if (cluster == nullptr) {
        std::fprintf(stderr, "malfix-kafka-broker: cannot start the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    int status = 0;
    for (const std::string& topic : options.topics) {
        const std::string problem = create_topic(cluster, topic, kDefaultPartitions);
        if (!problem.empty()) {
            std::fprintf(stderr, "malfix-kafka-broker: %s\n", problem.c_str());
            status = 2;
        }
    }
    if (status == 0) {
        std::printf("%s\n", rd_kafka_mock_cluster_bootstraps(cluster));
        std::fflush(stdout);
        std::fprintf(stderr, "malfix-kafka-broker: %d broker(s) at %s\n", options.brokers,
                     rd_kafka_mock_cluster_bootstraps(cluster));
        std::string line;
        while (std::getline(std::cin, line)) {
            if (line.find_first_not_of(" \t\r") == std::string::npos) {
                continue;
            }
            const std::string answer = run_command(cluster, options, line);
            std::printf("%s\n", answer.empty() ? "ok" : answer.c_str());
            std::fflush(stdout);
            if (answer.empty()) {
                break;
            }
        }
    }
    rd_kafka_mock_cluster_destroy(cluster);
    rd_kafka_destroy(rk);
    return status;
}
