// kafka_produce: Kafka output throughput in flows per CPU-second (serialise + produce).
//
//   malfix-kafka-broker > broker.txt &        # first line: the bootstrap address
//   malfix-bench-kafka --bootstrap $(head -1 broker.txt) --format protobuf --flows 2000000
//
// Writes the same pre-built FlowBatch (1024 flows, every 8th with a hit) through a real
// KafkaOutput until --flows flows went out, then flushes (waits for every delivery report).
// CPU time is this process's (the serializer thread plus librdkafka's threads: everything a
// malfix Kafka output costs); the broker runs in its own process and is not counted.

#include "sinks/kafka_output.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

namespace {

double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

/// A batch of 1024 IPv4 UDP/TCP flows with distinct ports; every 8th carries one hit.
struct BenchBatch {
    std::shared_ptr<const malfix::ipfix::Template> tmpl =
        std::make_shared<malfix::ipfix::Template>();
    std::vector<std::byte> record = std::vector<std::byte>(45);
    malfix::engine::FlowBatch batch;

    BenchBatch() {
        auto exporter = std::make_shared<const std::string>("tcp:192.0.2.9:4739");
        for (std::size_t i = 0; i < malfix::engine::FlowBatch::kMaxFlows; ++i) {
            malfix::ipfix::FlowView v;
            v.src_addr = malfix::ipfix::IpAddress::v4(0x0A000000U + static_cast<std::uint32_t>(i));
            v.dst_addr = malfix::ipfix::IpAddress::v4(0xC6336402U);
            v.src_port = static_cast<std::uint16_t>(1024 + i);
            v.dst_port = 443;
            v.protocol = i % 2 == 0 ? 6 : 17;
            v.has_ports = true;
            v.octets = 1500 + i;
            v.packets = 3;
            v.start_ns = 1'700'000'000'000'000'000LL;
            v.end_ns = v.start_ns + 1'000'000;
            v.observation_domain = 1;
            v.record = {record.data(), record.size()};
            v.tmpl = &tmpl;
            batch.add(v, exporter);
            malfix::engine::FlowRecord& flow = batch.flows.back();
            flow.forward = true;
            if (i % 8 == 0) {
                malfix::engine::Hit hit;
                hit.trail = "198.51.100.2";
                hit.info = "zeus (malware)";
                hit.reference = "(static)";
                hit.field = malfix::engine::HitField::kDstAddr;
                flow.hit_begin = static_cast<std::uint32_t>(batch.hits.size());
                flow.hit_count = 1;
                batch.hits.push_back(hit);
            }
        }
    }
};

}  // namespace

int main(int argc, char** argv) {
    std::string bootstrap;
    std::string format = "protobuf";
    std::string compression = "none";
    std::uint64_t flows = 2'000'000;
    CLI::App app{"Kafka output throughput (flows per CPU-second)", "malfix-bench-kafka"};
    app.add_option("--bootstrap", bootstrap, "Broker list (malfix-kafka-broker's first line)")
        ->required();
    app.add_option("--format", format, "protobuf, json or ipfix")->capture_default_str();
    app.add_option("--compression", compression, "none, lz4, zstd, gzip, snappy")
        ->capture_default_str();
    app.add_option("--flows", flows, "Flows to produce")->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    malfix::sinks::KafkaSettings settings;
    settings.properties = {{"compression.type", compression}};
    const std::string topic = "bench-" + format + "-" + compression;
    auto output = malfix::sinks::make_kafka_output(
        "kafka://" + bootstrap + "/" + topic + "?format=" + format, settings);
    BenchBatch bench;

    const double cpu0 = cpu_seconds();
    const auto wall0 = std::chrono::steady_clock::now();
    std::uint64_t written = 0;
    while (written < flows) {
        output->write(bench.batch);
        written += bench.batch.size();
    }
    output->flush();
    const double cpu = cpu_seconds() - cpu0;
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    const malfix::sinks::OutputStats s = output->stats();
    std::printf(
        "format=%s compression=%s flows=%llu delivered=%llu failed=%llu cpu_s=%.3f "
        "wall_s=%.3f flows_per_cpu_s=%.0f flows_per_wall_s=%.0f\n",
        format.c_str(), compression.c_str(), static_cast<unsigned long long>(written),
        static_cast<unsigned long long>(s.flows), static_cast<unsigned long long>(s.dropped), cpu,
        wall, static_cast<double>(written) / cpu, static_cast<double>(written) / wall);
    return s.flows == written ? 0 : 1;
}
