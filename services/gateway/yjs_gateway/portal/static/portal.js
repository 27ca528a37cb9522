// While a case is in progress its page refreshes its own record: fetch the page again and swap
// the record in. Without JavaScript the page reads the same, refreshed by hand.
(function () {
  function poll() {
    var current = document.getElementById("case");
    if (!current || !current.dataset.refresh) return;
    setTimeout(function () {
      fetch(location.href, {credentials: "same-origin", headers: {"Accept": "text/html"}})
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (text) {
          if (text === null) return;
          var fresh = new DOMParser().parseFromString(text, "text/html").getElementById("case");
          if (fresh) current.replaceWith(fresh);
          poll();
        })
        .catch(poll);
    }, Number(current.dataset.refresh));
  }
  document.addEventListener("DOMContentLoaded", poll);
})();
