// What a higher layer keeps with an engine object (the device's copy of a neighbour list, the
// device's run of a system): the engine object owns it and knows nothing of it but that it can
// be destroyed. The higher layer creates it on first use and finds it again by a cast.
#pragma once

namespace ha {

struct Attachment {
    virtual ~Attachment() = default;
};

}  // namespace ha
