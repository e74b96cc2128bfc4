#include "netd/policy/body_loader.h"

namespace netd::policy {

void SliceBodyLoader::forget() {
  main_text_.reset();
  main_slices_.clear();
  bodies_.clear();
  claims_.clear();
}

Result<Policy> SliceBodyLoader::load(std::string_view main_text, const std::string& main_source,
                                     std::span<const SliceBody> slices, const HostLimits& host) {
  bool remembered_refusal = false;
  auto policy = load_once(main_text, main_source, slices, host, &remembered_refusal);
  if (!policy.ok() && remembered_refusal) {
    // The refusal is right, but slices it involves were not parsed: parse them all, so it names
    // the lines. Apart, so memory stays for the next revision (usually the refused one mended).
    SliceBodyLoader afresh;
    policy = afresh.load_once(main_text, main_source, slices, host, &remembered_refusal);
    if (policy.ok()) *this = std::move(afresh);  // memory was wrong: take what was just read
  }
  return policy;
}

Result<Policy> SliceBodyLoader::load_once(std::string_view main_text, const std::string& main_source,
                                          std::span<const SliceBody> slices, const HostLimits& host,
                                          bool* remembered_refusal) {
  const uint64_t load = ++loads_;
  last_bodies_parsed_ = 0;
  // The main file's [netd] decides how every slice is checked: when it (or the host) changed,
  // nothing remembered holds, and the main file is parsed again.
  bool fresh = !main_text_ || *main_text_ != main_text || main_source_ != main_source;
  DaemonDraft written, daemon;
  if (!fresh) {
    written = daemon = main_daemon_;
    NETD_TRY(settle_daemon(daemon, host));
    fresh = !(daemon.settings == checked_with_);
  }
  std::vector<SliceDraft> main_drafts;
  if (fresh) {
    forget();
    written = {};
    NETD_TRY(parse_document(main_text, main_source, true, &written, &main_drafts));
    daemon = written;
    NETD_TRY(settle_daemon(daemon, host));
  }

  // Each slice in order: remembered (kept) or parsed and checked now (drafts).
  std::vector<SliceDraft> drafts;
  drafts.reserve(main_drafts.size() + slices.size());
  struct Entry {
    const Remembered* kept = nullptr;  // else drafts[draft]
    size_t draft = 0;
  };
  std::vector<Entry> order;
  order.reserve(slices.size());
  std::vector<const SliceSpec*> dropped, added;
  for (SliceDraft& draft : main_drafts) drafts.push_back(std::move(draft));
  for (const SliceBody& body : slices) {
    auto it = bodies_.find(body.source);
    if (it != bodies_.end()) {
      it->second.seen = load;
      if (it->second.text == body.text && it->second.name == body.name) {
        order.push_back({&it->second, 0});
        continue;
      }
      dropped.push_back(it->second.spec.get());
    }
    SliceDraft draft;
    NETD_TRY(parse_slice_body(body, &draft));
    ++last_bodies_parsed_;
    order.push_back({nullptr, drafts.size()});
    drafts.push_back(std::move(draft));
  }
  for (const auto& [source, memory] : bodies_)
    if (memory.seen != load) dropped.push_back(memory.spec.get());

  for (SliceDraft& draft : drafts) {
    NETD_TRY(check_slice(daemon.settings, draft));
    settle_slice(draft);
  }
  // Load order: the main file's slices, then the bodies.
  std::vector<SliceRef> refs;
  refs.reserve(main_slices_.size() + drafts.size() + order.size());
  for (const auto& spec : main_slices_) refs.push_back({spec.get(), nullptr});
  for (size_t i = 0; i < main_drafts.size(); ++i) refs.push_back({&drafts[i].spec, &drafts[i].where});
  bool any_remembered = !main_slices_.empty();
  for (const Entry& entry : order) {
    if (entry.kept != nullptr) {
      refs.push_back({entry.kept->spec.get(), nullptr});
      any_remembered = true;
    } else {
      refs.push_back({&drafts[entry.draft].spec, &drafts[entry.draft].where});
    }
  }
  for (const SliceDraft& draft : drafts) added.push_back(&draft.spec);
  if (!any_remembered || claims_.conflicts(dropped, added)) {
    if (Status across = check_across_slices(refs); !across.ok()) {
      *remembered_refusal = any_remembered;
      return std::move(across).error();
    }
  }

  // The policy shares the specs with memory; then memory becomes this load.
  std::vector<std::shared_ptr<const SliceSpec>> made(drafts.size());
  for (size_t i = 0; i < drafts.size(); ++i) made[i] = std::make_shared<SliceSpec>(std::move(drafts[i].spec));
  Policy policy;
  policy.netd = daemon.settings;
  policy.slices.reserve(refs.size());
  for (const auto& spec : main_slices_) policy.slices.push_back(spec);
  for (size_t i = 0; i < main_drafts.size(); ++i) policy.slices.push_back(made[i]);
  for (const Entry& entry : order)
    policy.slices.push_back(entry.kept != nullptr ? entry.kept->spec : made[entry.draft]);

  for (const SliceSpec* spec : dropped) claims_.remove(spec);  // before memory lets them go
  if (fresh) {
    main_text_ = std::string(main_text);
    main_source_ = main_source;
    main_daemon_ = std::move(written);
    main_slices_.assign(made.begin(), made.begin() + static_cast<std::ptrdiff_t>(main_drafts.size()));
    for (const auto& spec : main_slices_) claims_.add(spec.get());
  }
  checked_with_ = daemon.settings;
  std::erase_if(bodies_, [&](const auto& entry) { return entry.second.seen != load; });
  for (size_t i = 0; i < slices.size(); ++i) {
    if (order[i].kept != nullptr) continue;
    Remembered& memory = bodies_[slices[i].source];
    memory = {slices[i].name, slices[i].text, made[order[i].draft], load};
    claims_.add(memory.spec.get());
  }
  return policy;
}

}  // namespace netd::policy
