// libFuzzer target for decode_message(). Built only with Clang (see CMakeLists.txt):
//   cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++
//   cmake --build build-fuzz --target fuzz_decoder && build-fuzz/tests/ipfix/fuzz_decoder
//   tests/data/ipfix
// The first bytes pick the transport; the rest is fed as a stream of Messages into one
// Session, so templates defined early shape how later Messages are read.

#include "ipfix/decoder.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

namespace {

class DiscardingSink : public malfix::ipfix::FlowSink {
public:
    void on_flow(const malfix::ipfix::FlowView& flow) override {
        // Touch what a matcher touches, so the sanitizers see every view the decoder hands out.
        for (std::size_t i = 0; i < flow.dns_count; ++i) {
            checksum_ += flow.dns_name(i).size();
        }
        for (std::size_t i = 0; i < flow.nested_count; ++i) {
            checksum_ += (*flow.nested[i])->fields.size();
        }
        checksum_ += flow.record.size() + (*flow.tmpl)->fields.size();
    }

private:
    std::size_t checksum_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace malfix::ipfix;
    if (size < 1) {
        return 0;
    }
    const Transport transport = (data[0] & 1) != 0 ? Transport::kUdp : Transport::kTcp;
    Session session(transport, "fuzz", 60);
    DecodeCounters counters;
    DiscardingSink sink;

    std::span<const std::byte> rest(reinterpret_cast<const std::byte*>(data + 1), size - 1);
    std::int64_t now = 1'700'000'000;
    while (!rest.empty()) {
        std::size_t length = message_length(rest);
        if (length == 0 || length > rest.size()) {
            length = rest.size();
        }
        decode_message(rest.first(length), session, counters, sink, now);
        rest = rest.subspan(length);
        now += 30;
    }
    return 0;
}
