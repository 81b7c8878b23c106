#include "engine/flow_batch.hpp"

#include <algorithm>
#include <cstring>
#include <string>

namespace malfix::engine {

std::string_view hit_type_name(HitType type) {
    switch (type) {
        case HitType::kIp:
            return "IP";
        case HitType::kIpPort:
            return "IPORT";
        case HitType::kDns:
            return "DNS";
    }
    return "?";
}

std::string_view hit_field_name(HitField field) {
    switch (field) {
        case HitField::kSrcAddr:
            return "src_addr";
        case HitField::kDstAddr:
            return "dst_addr";
        case HitField::kSrcAddrPort:
            return "src_addr_port";
        case HitField::kDstAddrPort:
            return "dst_addr_port";
        case HitField::kDnsQname:
            return "dns_qname";
    }
    return "?";
}

FlowBatch::FlowBatch()
    : arena_(std::make_unique<std::byte[]>(kArenaBytes)),
      text_(std::make_unique<char[]>(kTextBytes)) {
    flows.reserve(kMaxFlows);
    hits.reserve(kMaxFlows * 2);
    templates.reserve(kMaxTemplates);
}

void FlowBatch::clear() {
    flows.clear();
    hits.clear();
    templates.clear();
    exporters.clear();
    snapshot.reset();
    arena_used_ = 0;
    text_used_ = 0;
}

const std::shared_ptr<const ipfix::Template>* FlowBatch::keep_template(
    const std::shared_ptr<const ipfix::Template>& tmpl) {
    // Records of one batch mostly share a handful of templates: search newest first.
    for (auto it = templates.rbegin(); it != templates.rend(); ++it) {
        if (*it == tmpl) {
            return &*it;
        }
    }
    templates.push_back(tmpl);
    return &templates.back();
}

bool FlowBatch::add(const ipfix::FlowView& flow,
                    const std::shared_ptr<const std::string>& exporter) {
    const std::size_t need = flow.record.size();
    const std::size_t new_templates = 1 + flow.nested_count;
    if (flows.size() >= kMaxFlows || arena_used_ + need > kArenaBytes ||
        templates.size() + new_templates > kMaxTemplates) {
        return false;
    }

    std::byte* copy = arena_.get() + arena_used_;
    if (need != 0) {  // an empty span may carry a null pointer, which memcpy must not get
        std::memcpy(copy, flow.record.data(), need);
    }
    arena_used_ += need;

    if (exporters.empty() || exporters.back() != exporter) {
        exporters.push_back(exporter);
    }
    // Built in place from the view: value-initialising the record first and then assigning
    // the view wrote its 300-odd bytes twice, for every flow.
    FlowRecord& rec =
        flows.emplace_back(flow, static_cast<std::uint32_t>(exporters.size() - 1),
                           static_cast<std::uint32_t>(hits.size()), std::uint16_t{0}, false);
    rec.view.record = {copy, need};
    rec.view.tmpl = flow.tmpl ? keep_template(*flow.tmpl) : nullptr;
    for (std::size_t i = 0; i < flow.nested_count; ++i) {
        rec.view.nested[i] = keep_template(*flow.nested[i]);
    }
    return true;
}

std::string_view FlowBatch::keep_text(std::string_view text) {
    if (text_used_ + text.size() > kTextBytes) {
        return {};
    }
    char* copy = text_.get() + text_used_;
    std::memcpy(copy, text.data(), text.size());
    text_used_ += text.size();
    return {copy, text.size()};
}

}  // namespace malfix::engine
