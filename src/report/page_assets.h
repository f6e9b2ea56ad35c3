// The report page's style sheet and script, kept as C++ string constants so the HTML file is
// self-contained (no network, no CDN). The script reads only the page's own embedded data.
#pragma once

namespace isc::report {

const char* page_css();
const char* viewer_js();

}  // namespace isc::report
