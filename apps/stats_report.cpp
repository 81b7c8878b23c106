#include "apps/stats_report.hpp"

#include "engine/log.hpp"

#include <string>
#include <vector>

namespace malfix::apps {
namespace {

using engine::LogField;

std::string rate(std::uint64_t now, std::uint64_t before, double seconds) {
    const double r = seconds > 0 ? static_cast<double>(now - before) / seconds : 0.0;
    return std::to_string(static_cast<std::uint64_t>(r + 0.5));
}

}  // namespace

std::string_view InputDrops::name(Reason reason) {
    switch (reason) {
        case kFramingLost:
            return "framing_lost";
        case kTruncated:
            return "truncated_message";
        case kNotIpfix:
            return "not_ipfix";
        case kNetflow:
            return "netflow_unsupported";
        case kUdpMalformed:
            return "udp_malformed";
        case kUdpSenderLimit:
            return "udp_sender_limit";
        case kCaptureUnreadable:
            return "capture_unreadable";
        case kCount:
            break;
    }
    return "?";
}

void InputDrops::add(const engine::InputSummary& file) {
    add(kFramingLost, file.resyncs);
}

void InputDrops::add(const engine::CaptureSummary& c) {
    add(kFramingLost, c.resyncs + c.tcp_streams_abandoned);
    add(kNotIpfix, c.non_ipfix_udp + c.non_ipfix_tcp);
    add(kNetflow, c.unsupported_netflow);
    add(kUdpMalformed, c.udp_malformed);
    add(kCaptureUnreadable, c.truncated + c.fragments);
}

void InputDrops::set_network(const engine::ListenerStats& n) {
    const auto relaxed = std::memory_order_relaxed;
    network_[kFramingLost].store(n.closed(engine::CloseReason::kBadHeader), relaxed);
    network_[kTruncated].store(n.tcp_truncated, relaxed);
    network_[kNetflow].store(n.udp_unsupported_netflow, relaxed);
    network_[kUdpMalformed].store(n.udp_malformed, relaxed);
    network_[kUdpSenderLimit].store(n.udp_sender_limit, relaxed);
}

/// "reason=count,reason=count" of the non-zero drop counters, or "none".
std::string StatsReporter::drops_text(const engine::PipelineStats& s) const {
    std::string text;
    auto add = [&text](std::string_view name, std::uint64_t n) {
        if (n == 0) {
            return;
        }
        if (!text.empty()) {
            text += ',';
        }
        text += name;
        text += '=';
        text += std::to_string(n);
    };
    for (std::size_t i = 0; i < s.drops.size(); ++i) {
        add(ipfix::reason_name(static_cast<ipfix::DropReason>(i)), s.drops[i]);
    }
    add("queue_full", s.queue_full_drops);
    for (std::size_t r = 0; r < InputDrops::kCount; ++r) {
        const auto reason = static_cast<InputDrops::Reason>(r);
        add(InputDrops::name(reason), inputs_.get(reason));
    }
    return text.empty() ? "none" : text;
}

StatsReporter::StatsReporter(const engine::Pipeline& pipeline, const InputDrops& inputs)
    : pipeline_(pipeline),
      inputs_(inputs),
      last_(pipeline.stats()),
      last_time_(std::chrono::steady_clock::now()) {}

void StatsReporter::report() {
    const engine::PipelineStats now = pipeline_.stats();
    const auto t = std::chrono::steady_clock::now();
    const double secs = std::chrono::duration<double>(t - last_time_).count();
    std::string depth;
    for (std::uint64_t d : now.matcher_queue_depth) {
        depth += (depth.empty() ? "" : ",") + std::to_string(d);
    }
    engine::log(engine::LogLevel::kInfo, "stats",
                {{"flows_in_per_s", rate(now.flows_in, last_.flows_in, secs)},
                 {"flows_out_per_s", rate(now.flows_out, last_.flows_out, secs)},
                 {"flows_in", std::to_string(now.flows_in)},
                 {"flows_out", std::to_string(now.flows_out)},
                 {"hits", std::to_string(now.hits())},
                 {"drops", drops_text(now)},
                 {"queue_depth", depth}});
    last_ = now;
    last_time_ = t;
}

void StatsReporter::summary() const {
    const engine::PipelineStats s = pipeline_.stats();
    engine::log(engine::LogLevel::kInfo, "summary",
                {{"messages", std::to_string(s.messages)},
                 {"messages_rejected", std::to_string(s.messages_rejected)},
                 {"flows_in", std::to_string(s.flows_in)},
                 {"flows_out", std::to_string(s.flows_out)},
                 {"flows_with_hits", std::to_string(s.flows_with_hits)},
                 {"hits_ip", std::to_string(s.hits_ip)},
                 {"hits_iport", std::to_string(s.hits_ip_port)},
                 {"hits_dns", std::to_string(s.hits_dns)},
                 {"options_records", std::to_string(s.options_records)},
                 {"sequence_gaps", std::to_string(s.sequence_gaps)},
                 {"drops", drops_text(s)}});
}

}  // namespace malfix::apps
