#pragma once

#include "ipfix/flow_view.hpp"
#include "ipfix/template.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace malfix::intel {
class Snapshot;
}

namespace malfix::engine {

/// What kind of observable matched, as written to malfix_type (420/3).
enum class HitType : std::uint8_t { kIp, kIpPort, kDns };
/// Which part of the flow matched, as written to the JSON "field" key.
enum class HitField : std::uint8_t { kSrcAddr, kDstAddr, kSrcAddrPort, kDstAddrPort, kDnsQname };

std::string_view hit_type_name(HitType type);     ///< "IP", "IPORT", "DNS"
std::string_view hit_field_name(HitField field);  ///< "src_addr", "dst_addr", ...

/// One detection. The strings point into the batch's snapshot (kept alive by the batch) or
/// into the batch's text arena (for rendered trails such as "(a.b).evil.com").
struct Hit {
    HitType type = HitType::kIp;
    HitField field = HitField::kSrcAddr;
    std::uint8_t dns_index = 0;  ///< which FlowView::dns entry, for kDnsQname
    std::uint16_t feed = 0;
    std::string_view trail;
    std::string_view info;
    std::string_view reference;
};

/// A flow copied into a batch: the view (its record span points into the batch's arena and
/// its template pointers into the batch's template list) plus the matcher's verdict.
struct FlowRecord {
    ipfix::FlowView view;
    std::uint32_t exporter = 0;   ///< index into FlowBatch::exporters
    std::uint32_t hit_begin = 0;  ///< first hit in FlowBatch::hits
    std::uint16_t hit_count = 0;
    bool forward = false;  ///< set by the matcher: the outputs write this flow
};

/// The unit that travels between threads: decoded flows, their raw records, and later their
/// hits. Batches are pooled and reused; clear() keeps every buffer's capacity, so the steady
/// state allocates nothing. The arena never reallocates (fixed capacity), so spans into it
/// stay valid while the batch lives.
class FlowBatch {
public:
    static constexpr std::size_t kMaxFlows = 1024;
    static constexpr std::size_t kArenaBytes = 256 * 1024;
    static constexpr std::size_t kTextBytes = 64 * 1024;
    static constexpr std::size_t kMaxTemplates = 256;

    FlowBatch();

    /// Copies the flow (record bytes, template references) into the batch. Returns false,
    /// changing nothing, when the batch is full; the caller then ships it and starts another.
    bool add(const ipfix::FlowView& flow, const std::shared_ptr<const std::string>& exporter);
    void clear();

    bool empty() const { return flows.empty(); }
    std::size_t size() const { return flows.size(); }
    std::span<const Hit> hits_of(const FlowRecord& flow) const {
        return {hits.data() + flow.hit_begin, flow.hit_count};
    }
    /// Copies text into the text arena and returns a view of the copy, or an empty view if
    /// the arena is full (the caller then uses a shorter form).
    std::string_view keep_text(std::string_view text);

    std::vector<FlowRecord> flows;
    std::vector<Hit> hits;
    /// Templates (main and nested) referenced by the flows, kept alive until encoded. Its
    /// capacity is fixed at kMaxTemplates, so FlowView::tmpl pointers into it stay valid.
    std::vector<std::shared_ptr<const ipfix::Template>> templates;
    /// Exporter names ("udp:192.0.2.1:4739") that FlowRecord::exporter indexes.
    std::vector<std::shared_ptr<const std::string>> exporters;
    /// The snapshot the hits point into; set by the matcher.
    std::shared_ptr<const intel::Snapshot> snapshot;

private:
    const std::shared_ptr<const ipfix::Template>* keep_template(
        const std::shared_ptr<const ipfix::Template>& tmpl);

    std::unique_ptr<std::byte[]> arena_;
    std::size_t arena_used_ = 0;
    std::unique_ptr<char[]> text_;
    std::size_t text_used_ = 0;
};

}  // namespace malfix::engine
