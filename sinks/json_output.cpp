#include "sinks/json_output.hpp"

#include "sinks/json_text.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace malfix::sinks {

namespace {

void append_number(std::string& out, std::uint64_t v) {
    char text[24];
    const auto result = std::to_chars(text, text + sizeof text, v);
    out.append(text, result.ptr);
}

void append_address(std::string& out, const ipfix::IpAddress& addr) {
    if (addr.empty()) {
        out.append("null");
        return;
    }
    char text[ipfix::IpAddress::kMaxTextLength + 1];
    const std::size_t n = addr.format(text);
    out.push_back('"');
    out.append(text, n);
    out.push_back('"');
}

void append_key(std::string& out, std::string_view key) {
    out.push_back('"');
    out.append(key);
    out.append("\":");
}

void append_hits(std::string& out, std::span<const engine::Hit> hits) {
    out.push_back('[');
    for (std::size_t i = 0; i < hits.size(); ++i) {
        const engine::Hit& hit = hits[i];
        out.append(i == 0 ? "{" : ",{");
        append_key(out, "type");
        append_json_string(out, engine::hit_type_name(hit.type));
        out.push_back(',');
        append_key(out, "trail");
        append_json_string(out, hit.trail);
        out.push_back(',');
        append_key(out, "info");
        append_json_string(out, hit.info);
        out.push_back(',');
        append_key(out, "reference");
        append_json_string(out, hit.reference);
        out.push_back(',');
        append_key(out, "field");
        append_json_string(out, engine::hit_field_name(hit.field));
        out.push_back('}');
    }
    out.push_back(']');
}

}  // namespace

JsonOutput::JsonOutput(std::string name, const std::string& path, const OutputOptions& options)
    : name_(std::move(name)), buffer_(std::max<std::size_t>(options.buffer_bytes, 4096)) {
    if (path == "-") {
        // stdout keeps the C library's buffering: setvbuf() is only allowed before its first use.
        file_ = stdout;
    } else {
        file_ = std::fopen(path.c_str(), "w");
        if (file_ == nullptr) {
            throw std::runtime_error("cannot open JSON output file '" + path +
                                     "': " + std::strerror(errno));
        }
        owns_file_ = true;
        std::setvbuf(file_, buffer_.data(), _IOFBF, buffer_.size());
    }
    line_.reserve(4096);
}

JsonOutput::~JsonOutput() {
    flush();
    if (owns_file_) {
        std::fclose(file_);
    }
}

void JsonOutput::format_flow(std::string& out, const engine::FlowBatch& batch,
                             const engine::FlowRecord& flow) {
    const ipfix::FlowView& v = flow.view;
    out.push_back('{');
    append_key(out, "time_start");
    append_json_time(out, v.start_ns);
    out.push_back(',');
    append_key(out, "time_end");
    append_json_time(out, v.end_ns);
    out.push_back(',');
    append_key(out, "src_addr");
    append_address(out, v.src_addr);
    out.push_back(',');
    append_key(out, "dst_addr");
    append_address(out, v.dst_addr);
    out.push_back(',');
    append_key(out, "src_port");
    append_number(out, v.src_port);
    out.push_back(',');
    append_key(out, "dst_port");
    append_number(out, v.dst_port);
    out.push_back(',');
    append_key(out, "proto");
    append_number(out, v.protocol);
    out.push_back(',');
    append_key(out, "bytes");
    append_number(out, v.octets);
    out.push_back(',');
    append_key(out, "packets");
    append_number(out, v.packets);
    out.push_back(',');
    if (v.dns_count > 0) {
        append_key(out, "dns_qnames");
        out.push_back('[');
        for (std::size_t i = 0; i < v.dns_count; ++i) {
            std::string_view qname = v.dns_name(i);
            if (!qname.empty() && qname.back() == '.') {
                qname.remove_suffix(1);
            }
            if (i != 0) {
                out.push_back(',');
            }
            append_json_string(out, qname);
        }
        out.append("],");
    }
    append_key(out, "hits");
    append_hits(out, batch.hits_of(flow));
    out.push_back(',');
    append_key(out, "exporter");
    if (flow.exporter < batch.exporters.size() && batch.exporters[flow.exporter]) {
        append_json_string(out, *batch.exporters[flow.exporter]);
    } else {
        out.append("null");
    }
    out.push_back(',');
    append_key(out, "observation_domain");
    append_number(out, v.observation_domain);
    out.append("}\n");
}

void JsonOutput::write(const engine::FlowBatch& batch) {
    for (const engine::FlowRecord& flow : batch.flows) {
        if (!flow.forward) {
            continue;
        }
        line_.clear();
        format_flow(line_, batch, flow);
        if (std::fwrite(line_.data(), 1, line_.size(), file_) != line_.size()) {
            OutputCounters::add(counters_.errors, 1);
            OutputCounters::add(counters_.dropped, 1);
            continue;
        }
        OutputCounters::add(counters_.flows, 1);
        OutputCounters::add(counters_.messages, 1);
        OutputCounters::add(counters_.bytes, line_.size());
    }
}

void JsonOutput::flush() {
    if (std::fflush(file_) != 0) {
        OutputCounters::add(counters_.errors, 1);
    }
}

}  // namespace malfix::sinks
