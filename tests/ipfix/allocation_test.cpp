// The decoder must not allocate per record in the steady state (ARCHITECTURE.md): this test
// counts every operator new while already-known traffic is decoded again.

#include "ipfix/decoder.hpp"
#include "tests/ipfix/decoder_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

// AddressSanitizer brings its own operator new and reports a replacement as mismatched, so
// under the sanitizers the count is not taken (the plain build takes it).
#if defined(__SANITIZE_ADDRESS__)
#define MALFIX_COUNT_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MALFIX_COUNT_ALLOCATIONS 0
#endif
#endif
#ifndef MALFIX_COUNT_ALLOCATIONS
#define MALFIX_COUNT_ALLOCATIONS 1
#endif

namespace {

std::atomic<std::size_t> allocations{0};

}  // namespace

#if MALFIX_COUNT_ALLOCATIONS
void* operator new(std::size_t size) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size == 0 ? 1 : size)) {
        return p;
    }
    throw std::bad_alloc();
}

void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
#endif

namespace malfix::ipfix {
namespace {

/// Counts flows and names without keeping anything.
class CountingSink : public FlowSink {
public:
    void on_flow(const FlowView& flow) override {
        ++flows;
        names += flow.dns_count;
    }
    std::size_t flows = 0;
    std::size_t names = 0;
};

}  // namespace

TEST_CASE("decoding known traffic again allocates nothing", "[ipfix][allocation]") {
    const std::vector<std::byte> yaf = test::read_data_file("ipfix/yaf_dns_dpi.yaf");
    const std::vector<std::byte> flows = test::read_data_file("ipfix/example_flows.ipfix");
    Session session(Transport::kUdp, "exporter");
    DecodeCounters counters;
    CountingSink sink;

    // The first pass defines the templates and the per-domain sequence state.
    test::decode_stream(yaf, session, counters, sink);
    test::decode_stream(flows, session, counters, sink);
    const std::size_t first_flows = sink.flows;
    REQUIRE(first_flows == 8 + 3979);

    // The second pass resends identical templates (a refresh) and the same records.
    const std::size_t before = allocations.load();
    test::decode_stream(yaf, session, counters, sink);
    test::decode_stream(flows, session, counters, sink);
    const std::size_t during = allocations.load() - before;

    CHECK(sink.flows == 2 * first_flows);
    if (MALFIX_COUNT_ALLOCATIONS == 0) {
        WARN("allocations not counted under AddressSanitizer");
        return;
    }
    CHECK(during == 0);
}

}  // namespace malfix::ipfix
