"""What a shopper's search (``ListProductsRequest.query``) matches.

Every word of the query must be found, case and accents ignored, in the product's names (in
Indonesian and in English), in one of its search keywords, or in its category's names: "pln"
finds the PLN token by its keyword, "Token Listrik" finds it by its name, "game" every
product in "Voucher Game".

The folding happens once, in Python, when a row is written: each product keeps its names and
keywords folded in ``search_text``, each category its two names in its own ``search_text``.
A search folds its words the same way and compares folded text with folded text (the columns
compare bytes on MariaDB too, migration 006), so both databases find the same products. A
word matches anywhere in a text, as a substring: "sam" finds "Samudra". Category names are
matched through the category's row rather than copied into every product, so a category
renamed later changes no product row.
"""

from __future__ import annotations

import operator
import unicodedata
from collections.abc import Iterable, Sequence
from functools import reduce

import peewee

from pasar_product.models import Category, Product


def search_key(text: str) -> str:
    """Text folded for matching: case and accents ignored, so "kopi" finds "KOPI" and "Kopí"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def query_words(query: str) -> tuple[str, ...]:
    """The folded words of a query (split on white space), each once, in their order."""
    return tuple(dict.fromkeys(search_key(query).split()))


def product_search_text(display_name: str, display_name_en: str, keywords: Iterable[str]) -> str:
    """What a product's search looks in: its names and keywords, folded, one space apart (a
    query word has no space in it, so it never matches across two of them)."""
    return search_key(" ".join((display_name, display_name_en, *keywords)).strip())


def category_search_text(display_name: str, display_name_en: str) -> str:
    """What a search looks in for a product's category: both of its names, folded."""
    return search_key(f"{display_name} {display_name_en}".strip())


def matching(words: Sequence[str]) -> peewee.Expression:
    """The condition a product meets when each word is in its search text or in its category's.

    Each word is one LIKE on the product's row (the catalog's pages scan the (state, id)
    index and stop at a full page) or a match of its category among the categories whose
    names hold the word (a small subquery, read once per query).
    """
    if not words:
        raise ValueError("a search has at least one word")
    conditions = [
        Product.search_text.contains(word)
        | Product.category.in_(Category.select(Category.id).where(Category.search_text.contains(word)))
        for word in words
    ]
    every: peewee.Expression = reduce(operator.and_, conditions)
    return every


def keyword_problems(keywords: Sequence[str], field: str) -> list[tuple[str, str]]:
    """What is wrong with an administrator's keywords beyond the contract's rules (which hold
    them to 20 of 1..40 characters): one that is only white space, or one that is another
    written in other letter case or accents, which would find nothing more."""
    problems: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for index, keyword in enumerate(keywords):
        key = " ".join(search_key(keyword).split())
        if not key:
            problems.append((f"{field}[{index}]", "a keyword needs a character other than white space"))
        elif key in seen:
            problems.append((f"{field}[{index}]", f"the same keyword as {field}[{seen[key]}]"))
        else:
            seen[key] = index
    return problems


def trimmed_keywords(keywords: Sequence[str]) -> tuple[str, ...]:
    """Keywords as stored: white space around them removed and any run of it inside made one
    space, otherwise as written ("PLN" stays "PLN"; search folds it)."""
    return tuple(" ".join(keyword.split()) for keyword in keywords)
