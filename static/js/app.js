// Small behaviours of the screens: the queue's keyboard shortcuts, photo zoom, auto-submitting selects.
(function () {
  "use strict";

  function photos() {
    return Array.from(document.querySelectorAll("[data-keyboard-queue] figure.photo"));
  }

  function focusPhoto(figure) {
    if (!figure) return;
    figure.focus();
    figure.scrollIntoView({ block: "nearest" });
  }

  function currentPhoto() {
    const active = document.activeElement;
    return active && active.closest ? active.closest("[data-keyboard-queue] figure.photo") : null;
  }

  function move(step) {
    const all = photos();
    if (!all.length) return;
    const index = all.indexOf(currentPhoto());
    const next = index < 0 ? 0 : Math.min(Math.max(index + step, 0), all.length - 1);
    focusPhoto(all[next]);
  }

  function click(figure, shortcut) {
    const button = figure.querySelector('[data-shortcut="' + shortcut + '"]');
    if (button && !button.disabled) button.click();
  }

  function clickCarButton(figure, shortcut) {
    const card = figure.closest(".car-card");
    const button = card && card.querySelector('[data-shortcut="' + shortcut + '"]');
    if (button) {
      button.click();
    } else {
      showMessage(document.body.dataset.noCar);
    }
  }

  // htmx drops an error response without a word; an inspector must know the action was not saved.
  function showActionError() {
    showMessage(document.body.dataset.htmxError);
  }

  function showMessage(text) {
    const main = document.querySelector("main");
    let list = main.querySelector(".messages");
    if (!list) {
      list = document.createElement("ul");
      list.className = "messages";
      list.setAttribute("role", "alert");
      main.prepend(list);
    }
    const item = document.createElement("li");
    item.className = "message error";
    item.textContent = text;
    list.append(item);
    item.scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("htmx:responseError", showActionError);
  document.addEventListener("htmx:sendError", showActionError);

  // After a review the photo is swapped; the next photo gets the focus so the inspector
  // can go on typing. Undo keeps the focus on the same photo.
  let advanceAfterSwap = null;

  document.addEventListener("htmx:afterSwap", function (event) {
    const figure = event.detail.target && document.getElementById(event.detail.target.id);
    if (!figure || !figure.matches || !figure.matches("figure.photo")) return;
    if (advanceAfterSwap === figure.id) {
      const all = photos();
      const index = all.indexOf(figure);
      focusPhoto(all[index + 1] || figure);
    } else {
      focusPhoto(figure);
    }
    advanceAfterSwap = null;
  });

  document.addEventListener("keydown", function (event) {
    if (!document.querySelector("[data-keyboard-queue]")) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target.matches && target.matches("input[type=text], input[type=number], input[type=date], select, textarea")) return;

    const figure = currentPhoto();
    const key = event.key;
    if (key === "j" || key === "ArrowRight" || key === "ArrowDown") { move(1); event.preventDefault(); return; }
    if (key === "k" || key === "ArrowLeft" || key === "ArrowUp") { move(-1); event.preventDefault(); return; }
    if (key === "n") {
      const next = document.querySelector(".pager a[rel=next]");
      if (next) { next.click(); event.preventDefault(); }
      return;
    }
    if (!figure) {
      if (key.length === 1) move(1);
      return;
    }

    if (key === "c") { advanceAfterSwap = figure.id; click(figure, "confirm"); }
    else if (key === "i") { advanceAfterSwap = figure.id; click(figure, "irrelevant"); }
    else if (key === "u") { click(figure, "undo"); }
    else if (key === "w") { clickCarButton(figure, "wash"); }
    else if (key === "r") { clickCarButton(figure, "repair"); }
    else if (key === "o") { click(figure, "open"); }
    else if (/^[0-9]$/.test(key)) {
      const box = figure.querySelector('input[data-key="' + key + '"]');
      if (!box) return;
      figure.querySelector("[data-correct]").open = true;
      box.checked = !box.checked;
    }
    else if (key === "Enter" && figure.querySelector("[data-correct] input:checked")) {
      advanceAfterSwap = figure.id;
      click(figure, "correct");
    }
    else { return; }
    event.preventDefault();
  });

  // Photo page: a range input scales the full-size image; clicking the image toggles 2x.
  document.addEventListener("input", function (event) {
    if (!event.target.matches("[data-zoom]")) return;
    const image = document.getElementById(event.target.dataset.zoom);
    image.style.width = event.target.value + "%";
  });
  document.addEventListener("click", function (event) {
    const image = event.target.closest && event.target.closest("img[data-zoomable]");
    if (!image) return;
    const slider = document.querySelector('[data-zoom="' + image.id + '"]');
    const zoomed = image.style.width && image.style.width !== "100%";
    image.style.width = zoomed ? "100%" : "200%";
    if (slider) slider.value = zoomed ? 100 : 200;
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) event.target.form.submit();
  });

  // Relabel screen: one checkbox selects or clears every photo of the page.
  document.addEventListener("change", function (event) {
    if (!event.target.matches("[data-select-all]")) return;
    document.querySelectorAll('input[name="photos"][form="' + event.target.dataset.selectAll + '"]').forEach(function (box) {
      box.checked = event.target.checked;
    });
  });
})();
