#include "ipfix/session.hpp"

#include <atomic>
#include <utility>

namespace malfix::ipfix {

namespace {

// Template IDs 2 and 3 in a Template Withdrawal address every Template, respectively every
// Options Template, of the Observation Domain (RFC 7011 §8.1).
constexpr std::uint16_t kWithdrawAllTemplates = 2;
constexpr std::uint16_t kWithdrawAllOptionsTemplates = 3;

// Process-wide so that encoders on any thread can key derived templates by uid alone.
std::atomic<std::uint64_t> next_template_uid{1};

void finish_template(Template& tmpl) {
    std::uint32_t min_length = 0;
    bool fixed = true;
    for (const FieldSpec& field : tmpl.fields) {
        if (field.is_variable()) {
            // The shortest variable-length value is a single zero length byte (RFC 7011 §7).
            min_length += 1;
            fixed = false;
        } else {
            min_length += field.length;
        }
    }
    tmpl.min_record_length = min_length;
    tmpl.fixed_length = fixed;
    tmpl.uid = next_template_uid.fetch_add(1, std::memory_order_relaxed);
}

bool same_definition(const Template& a, const Template& b) {
    return a.scope_field_count == b.scope_field_count && a.fields == b.fields;
}

}  // namespace

Session::Session(Transport transport, std::string exporter, std::int64_t template_timeout_s)
    : transport_(transport),
      exporter_(std::move(exporter)),
      template_timeout_s_(template_timeout_s) {}

const std::shared_ptr<const Template>* Session::find(std::uint32_t domain, std::uint16_t id,
                                                     std::int64_t now) const {
    const auto it = templates_.find(key(domain, id));
    if (it == templates_.end()) {
        return nullptr;
    }
    // Only UDP templates age out: over TCP and SCTP they live until withdrawn or the
    // Transport Session ends (RFC 7011 §8.4 vs §8).
    if (transport_ == Transport::kUdp && now - it->second.refreshed > template_timeout_s_) {
        return nullptr;
    }
    return &it->second.tmpl;
}

bool Session::define(std::uint32_t domain, Template tmpl, std::int64_t now) {
    const std::uint16_t id = tmpl.id;
    const std::shared_ptr<const Template>* live = find(domain, id, now);
    if (live != nullptr && same_definition(**live, tmpl)) {
        templates_[key(domain, id)].refreshed = now;
        return true;
    }

    // A different definition of a live ID without a withdrawal in between is an Exporter
    // error on TCP and files (RFC 7011 §8.1); over UDP it is the normal way to change one.
    const bool conforming = live == nullptr || transport_ == Transport::kUdp;

    finish_template(tmpl);
    Entry& entry = templates_[key(domain, id)];
    entry.tmpl = std::make_shared<const Template>(std::move(tmpl));
    entry.refreshed = now;
    return conforming;
}

bool Session::refresh(std::uint32_t domain, std::uint16_t id, std::int64_t now) {
    if (find(domain, id, now) == nullptr) {
        return false;
    }
    templates_[key(domain, id)].refreshed = now;
    return true;
}

std::size_t Session::withdraw(std::uint32_t domain, std::uint16_t id) {
    if (id != kWithdrawAllTemplates && id != kWithdrawAllOptionsTemplates) {
        return templates_.erase(key(domain, id));
    }

    const bool options = id == kWithdrawAllOptionsTemplates;
    std::size_t withdrawn = 0;
    for (auto it = templates_.begin(); it != templates_.end();) {
        const bool in_domain = (it->first >> 16) == domain;
        if (in_domain && it->second.tmpl->is_options() == options) {
            it = templates_.erase(it);
            ++withdrawn;
        } else {
            ++it;
        }
    }
    return withdrawn;
}

std::size_t Session::template_count() const {
    return templates_.size();
}

bool Session::check_sequence(std::uint32_t domain, std::uint32_t seq, std::uint32_t records) {
    // The Sequence Number is the count of Data Records sent before this Message, modulo 2^32
    // (RFC 7011 §3.1); unsigned arithmetic gives the wrap for free.
    const auto [it, first] = next_sequence_.try_emplace(domain, seq);
    const bool expected = first || it->second == seq;
    it->second = seq + records;
    return expected;
}

}  // namespace malfix::ipfix
