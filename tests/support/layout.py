"""What a person would see broken in a screenshot, measured in the page instead: something wider
than the screen, text that does not stand out from what is behind it (WCAG 1.4.3: 4.5:1, 3:1 for
large text), controls too small to hit with a finger (WCAG 2.5.8: 24 by 24 CSS pixels), and a
table squeezed until its words break in the middle."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

# Run in the page; returns {"wide", "contrast", "small", "split"}, each a list of
# descriptions of what is wrong, empty when nothing is. Only what can be seen and reached is
# measured: inside the open modal dialog when there is one (the rest of the page is inert).
AUDIT = r"""([phone, width]) => {
    const describe = (el) => {
        const id = el.dataset.testid || el.id || (el.className && String(el.className)) || "";
        const text = (el.innerText || el.value || "").trim().replace(/\s+/g, " ").slice(0, 40);
        return `${el.tagName.toLowerCase()}[${id}] "${text}"`;
    };
    const shown = (el) => {
        if (!el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) return false;
        const box = el.getBoundingClientRect();
        return box.width > 0 && box.height > 0;
    };
    const modal = [...document.querySelectorAll("dialog[open]")].find((d) => d.matches(":modal"));
    const scope = modal || document.body;
    const all = [...scope.querySelectorAll("*")].filter(shown);

    // Wider than the screen, unless a scroller or a clipping box holds it.
    const clipped = (el) => {
        const root = document.documentElement;
        for (let up = el.parentElement; up && up !== root; up = up.parentElement) {
            if (getComputedStyle(up).overflowX !== "visible") return true;
        }
        return false;
    };
    const wide = all
        .filter((el) => {
            const box = el.getBoundingClientRect();
            return (box.right > width + 0.5 || box.left < -0.5) && !clipped(el);
        })
        .map(describe);

    // The contrast of text against the first opaque background behind it.
    // "rgb(r g b / a)", or "color(srgb r g b / a)" with channels from 0 to 1 (color-mix's).
    const rgba = (css) => {
        const srgb = css.startsWith("color(srgb");
        const parts = (css.replace("color(srgb", "").match(/[\d.]+/g) || ["0", "0", "0", "0"]);
        const [r, g, b, a] = parts.map(Number).concat([1]).slice(0, 4);
        return srgb ? [r * 255, g * 255, b * 255, a] : [r, g, b, a];
    };
    const luminance = ([r, g, b]) => {
        const channel = (v) => {
            const c = v / 255;
            return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
        };
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    const over = (top, bottom) => {
        const a = top[3];
        return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat([1]);
    };
    const background = (el) => {
        const layers = [];
        for (let up = el; up; up = up.parentElement) {
            const style = getComputedStyle(up);
            // A gradient or an image: not measured.
            if (style.backgroundImage !== "none") return null;
            const colour = rgba(style.backgroundColor);
            if (colour[3] > 0) layers.push(colour);
            if (colour[3] >= 1) break;
            // A modal dialog's content sits on the dialog: what is behind it does not show.
            if (up.tagName === "DIALOG") break;
        }
        let result = [255, 255, 255, 1];
        if (!layers.length || layers[layers.length - 1][3] < 1) {
            result = rgba(getComputedStyle(document.body).backgroundColor);
            if (result[3] < 1) result = [255, 255, 255, 1];
        }
        for (const layer of layers.reverse()) result = over(layer, result);
        return result;
    };
    const contrast = [];
    for (const el of all) {
        const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
        if (!own || el.closest("[disabled], [aria-disabled=true]")) continue;
        const style = getComputedStyle(el);
        const back = background(el);
        if (!back) continue;
        const fore = over(rgba(style.color), back);
        const [hi, lo] = [luminance(fore), luminance(back)].sort((x, y) => y - x);
        const ratio = (hi + 0.05) / (lo + 0.05);
        const size = Number.parseFloat(style.fontSize);
        const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
        if (ratio < (large ? 3 : 4.5)) contrast.push(`${describe(el)} ${ratio.toFixed(2)}:1`);
    }

    // Targets: 24 by 24 at least on a touch screen; a link inside a sentence is exempt.
    const small = [];
    if (phone) {
        const targets = "button, a[href], input:not([type=hidden]), select, textarea, summary, "
            + "[role=button], [role=tab]";
        for (const el of all.filter((el) => el.matches(targets) && !el.disabled)) {
            if (el.matches("a") && el.closest("p, li, td, blockquote")) continue;
            let box = el.getBoundingClientRect();
            // A checkbox or radio inside its label: the label is what a finger hits.
            const label = el.closest("label");
            if (label && el.matches("input[type=checkbox], input[type=radio]")) {
                box = label.getBoundingClientRect();
            }
            if (box.width < 23.5 || box.height < 23.5) {
                small.push(`${describe(el)} ${box.width.toFixed(0)}x${box.height.toFixed(0)}`);
            }
        }
    }
    // A word of a table broken across lines: its columns squeezed to a few letters each.
    const split = [];
    for (const cell of all.filter((el) => el.matches("th, td"))) {
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const word of node.textContent.matchAll(/\S{2,20}/g)) {
                const range = document.createRange();
                range.setStart(node, word.index);
                range.setEnd(node, word.index + word[0].length);
                const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
                if (lines.size > 1) split.push(`${describe(cell)} "${word[0]}"`);
            }
        }
    }
    return { wide, contrast, small, split };
}"""


def audit(page: Page, *, phone: bool) -> dict[str, Any]:
    """What is wrong with what the page shows now (see `AUDIT`)."""
    # The screen's width, not innerWidth: a phone's browser widens its layout viewport to fit
    # what is too wide (zooming out), so innerWidth grows with the very overflow looked for.
    viewport = page.viewport_size
    assert viewport is not None
    result: dict[str, Any] = page.evaluate(AUDIT, [phone, viewport["width"]])
    return result
