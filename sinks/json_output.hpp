#pragma once

#include "engine/flow_batch.hpp"
#include "sinks/output.hpp"
#include "sinks/output_counters.hpp"
#include "sinks/output_factory.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace malfix::sinks {

/// json:PATH and json:- — one JSON object per forwarded flow and line (JSON Lines), with keys
/// time_start, time_end, src_addr, dst_addr, src_port, dst_port, proto, bytes, packets,
/// dns_qnames (only when the flow carried names), hits, exporter and observation_domain.
/// Ports are 0 for flows without ports. Output is buffered; flush() pushes it out.
class JsonOutput final : public Output {
public:
    /// path "-" writes to standard output. Throws std::runtime_error if the file cannot be
    /// opened.
    JsonOutput(std::string name, const std::string& path, const OutputOptions& options);
    ~JsonOutput() override;

    void write(const engine::FlowBatch& batch) override;
    void flush() override;
    OutputStats stats() const override { return counters_.load(); }
    const std::string& name() const override { return name_; }

    /// Appends the JSON line (with its newline) of one flow; exposed for tests.
    static void format_flow(std::string& out, const engine::FlowBatch& batch,
                            const engine::FlowRecord& flow);

private:
    std::string name_;
    std::FILE* file_ = nullptr;
    bool owns_file_ = false;
    std::vector<char> buffer_;
    std::string line_;
    OutputCounters counters_;
};

}  // namespace malfix::sinks
