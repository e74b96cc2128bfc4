// Owning pointers for libnftnl objects (each freed by its own nftnl_*_free).
#pragma once

#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include <memory>

namespace netd::kernel {

template <auto FreeFn>
struct NftnlDeleter {
  template <typename T>
  void operator()(T* p) const {
    FreeFn(p);
  }
};

using NftnlTable = std::unique_ptr<nftnl_table, NftnlDeleter<nftnl_table_free>>;
using NftnlChain = std::unique_ptr<nftnl_chain, NftnlDeleter<nftnl_chain_free>>;
using NftnlRule = std::unique_ptr<nftnl_rule, NftnlDeleter<nftnl_rule_free>>;
using NftnlExpr = std::unique_ptr<nftnl_expr, NftnlDeleter<nftnl_expr_free>>;
using NftnlSet = std::unique_ptr<nftnl_set, NftnlDeleter<nftnl_set_free>>;
using NftnlSetElem = std::unique_ptr<nftnl_set_elem, NftnlDeleter<nftnl_set_elem_free>>;
using NftnlGen = std::unique_ptr<nftnl_gen, NftnlDeleter<nftnl_gen_free>>;
using NftnlBatch = std::unique_ptr<nftnl_batch, NftnlDeleter<nftnl_batch_free>>;
using NftnlExprIter = std::unique_ptr<nftnl_expr_iter, NftnlDeleter<nftnl_expr_iter_destroy>>;
using NftnlSetElemsIter = std::unique_ptr<nftnl_set_elems_iter, NftnlDeleter<nftnl_set_elems_iter_destroy>>;
using NftnlUdataBuf = std::unique_ptr<nftnl_udata_buf, NftnlDeleter<nftnl_udata_buf_free>>;

}  // namespace netd::kernel
