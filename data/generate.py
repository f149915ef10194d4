#!/usr/bin/env python3
"""Deterministic generator of a small, synthetic English NER corpus in CoNLL format.

Writes ``sample.train.conll``, ``sample.dev.conll`` and ``sample.test.conll`` (two columns,
``token TAG``, IOB2 tags over PER / ORG / LOC / MISC) and prints statistics to stderr.

Everything here (templates, word lists, invented names) was written for this project; the
sentences are produced by a small template grammar filled from compositional name
inventories.  A share of entity mentions in each split is drawn from a name pool that is
private to that split (invented, syllable-built names), so that dev/test contain many
entity strings never seen in train.

Usage::

    python data/generate.py [--out-dir data]

Pure standard library; running it twice gives byte-identical files.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
from collections import Counter

SEED = 1337_2024
SPLITS = (("train", 3000), ("dev", 600), ("test", 600))
FILE_PATTERN = "sample.{split}.conll"
P_PRIVATE = 0.2  # chance that one entity mention is built from the split's private pool
MIN_LEN, MAX_LEN = 3, 45
MAX_ENTITY_TOKENS = 4
DOC_MIN, DOC_MAX = 50, 100  # sentences per document
P_UPPER, P_LOWER = 0.03, 0.01  # case noise on ordinary sentences
P_JOIN, P_JOIN3 = 0.06, 0.012  # joining clauses into long sentences
P_TAIL = 0.06  # ", officials said" style tails

# ---------------------------------------------------------------------------------------
# Shared (well-known / generic) inventories.  Used by every split.
# ---------------------------------------------------------------------------------------

FIRST_NAMES = """John Michael David Peter Paul James Robert Thomas Mark Andrew Richard Stefan
Hans Jean Pierre Carlos Luis Marco Giovanni Ivan Sergei Ahmed Omar Yusuf Kenji Hiroshi Wei
Raj Anil Maria Anna Sarah Elena Sophie Claire Laura Julia Fatima Ingrid Olga Yuki Mei Priya
Grace Helen Emma Lucia Jordan May Paris Chelsea Sydney Georgia Victoria Morgan Florence
Austin Tomas Piotr Lars Erik Nils Kofi Amara Diego Mateo Rosa Ines Hugo""".split()

SURNAMES = """Smith Johnson Brown Taylor Wilson Clarke Walker Wright Mueller Schmidt Weber
Becker Dupont Martin Bernard Moreau Rossi Bianchi Ferrari Garcia Fernandez Lopez Silva Santos
Petrov Ivanov Novak Kowalski Jansen Andersson Larsen Nielsen Hansen Virtanen Tanaka Suzuki
Sato Kim Park Chen Wang Zhang Singh Patel Khan Hassan Okafor Mensah O'Brien Murphy Jordan
May Washington Ford Lincoln Young King Bush Hill Green Stone""".split() + [
    "de Vries", "van Dijk", "da Silva", "Le Roux", "Al-Rashid",
]

COUNTRIES = [
    ("Germany", "German"), ("France", "French"), ("Britain", "British"), ("Italy", "Italian"),
    ("Spain", "Spanish"), ("Portugal", "Portuguese"), ("Netherlands", "Dutch"),
    ("Belgium", "Belgian"), ("Sweden", "Swedish"), ("Norway", "Norwegian"),
    ("Denmark", "Danish"), ("Finland", "Finnish"), ("Poland", "Polish"), ("Russia", "Russian"),
    ("Ukraine", "Ukrainian"), ("Turkey", "Turkish"), ("Greece", "Greek"), ("Egypt", "Egyptian"),
    ("Jordan", "Jordanian"), ("Israel", "Israeli"), ("Iran", "Iranian"), ("Iraq", "Iraqi"),
    ("India", "Indian"), ("Pakistan", "Pakistani"), ("China", "Chinese"), ("Japan", "Japanese"),
    ("Australia", "Australian"), ("Brazil", "Brazilian"), ("Argentina", "Argentine"),
    ("Mexico", "Mexican"), ("Canada", "Canadian"), ("Kenya", "Kenyan"), ("Nigeria", "Nigerian"),
    ("South Africa", "South African"), ("New Zealand", "New Zealand"), ("U.S.", "American"),
    ("United States", "American"), ("South Korea", "South Korean"), ("Chile", "Chilean"),
    ("Austria", "Austrian"), ("Switzerland", "Swiss"), ("Hungary", "Hungarian"),
    ("Czech Republic", "Czech"), ("Ireland", "Irish"), ("Morocco", "Moroccan"),
]
_COUNTRY_BY_NAME = {name: (name, adj) for name, adj in COUNTRIES}

CITIES = [
    ("London", "Britain"), ("Paris", "France"), ("Berlin", "Germany"), ("Bonn", "Germany"),
    ("Frankfurt", "Germany"), ("Munich", "Germany"), ("Rome", "Italy"), ("Milan", "Italy"),
    ("Madrid", "Spain"), ("Barcelona", "Spain"), ("Lisbon", "Portugal"),
    ("Amsterdam", "Netherlands"), ("Brussels", "Belgium"), ("Stockholm", "Sweden"),
    ("Oslo", "Norway"), ("Helsinki", "Finland"), ("Warsaw", "Poland"), ("Moscow", "Russia"),
    ("Kiev", "Ukraine"), ("Istanbul", "Turkey"), ("Ankara", "Turkey"), ("Athens", "Greece"),
    ("Cairo", "Egypt"), ("Amman", "Jordan"), ("Tehran", "Iran"), ("Baghdad", "Iraq"),
    ("New Delhi", "India"), ("Mumbai", "India"), ("Karachi", "Pakistan"), ("Beijing", "China"),
    ("Shanghai", "China"), ("Hong Kong", "China"), ("Tokyo", "Japan"), ("Osaka", "Japan"),
    ("Seoul", "South Korea"), ("Sydney", "Australia"), ("Melbourne", "Australia"),
    ("Sao Paulo", "Brazil"), ("Rio de Janeiro", "Brazil"), ("Buenos Aires", "Argentina"),
    ("Mexico City", "Mexico"), ("Toronto", "Canada"), ("Washington", "U.S."),
    ("New York", "U.S."), ("Chicago", "U.S."), ("Los Angeles", "United States"),
    ("Nairobi", "Kenya"), ("Lagos", "Nigeria"), ("Johannesburg", "South Africa"),
    ("Geneva", "Switzerland"), ("Zurich", "Switzerland"), ("Vienna", "Austria"),
    ("Prague", "Czech Republic"), ("Budapest", "Hungary"), ("Victoria", "Canada"),
    ("Florence", "Italy"), ("Lincoln", "Britain"), ("Austin", "United States"),
    ("Dublin", "Ireland"), ("Rabat", "Morocco"), ("Santiago", "Chile"),
    ("Auckland", "New Zealand"), ("Manchester", "Britain"), ("Lyon", "France"),
]

REGIONS = """Bavaria Texas California Kashmir Siberia Catalonia Scotland Wales Queensland Ontario
Tuscany Provence Andalusia Flanders Punjab Patagonia Sicily Normandy Alsace Yorkshire Quebec
Saxony Galicia Anatolia""".split() + ["Northern Ireland", "Basque Country", "West Bank"]
RIVERS = "Rhine Danube Nile Amazon Thames Volga Elbe Ganges Mekong Seine".split()
MOUNTAINS = ["Mount Everest", "Mont Blanc", "Kilimanjaro", "Mount Kenya", "Mount Fuji",
             "Matterhorn", "Mount Olympus", "Ben Nevis"]

REAL_COMPANIES = """Siemens Apple Ford Boeing Airbus Shell Nestle Toyota Honda Microsoft IBM
Intel Volkswagen Daimler Fiat Philips Nokia Ericsson Sony Samsung Unilever BP Renault Ferrari
Amazon""".split() + ["General Motors", "General Electric", "Royal Dutch"]
COMPANY_STEMS = """Northstar Bluewater Atlas Meridian Pinnacle Crestline Summit Harbor Orion
Apex Vanguard Sterling Keystone Redwood Silverline Beacon Granite Horizon Falcon Phoenix""".split()
COMPANY_SUFFIXES = """Corp Holdings Group Industries Motors Energy Pharmaceuticals Systems
Telecom Steel Foods Electronics Capital International Insurance Partners Chemicals
Media""".split()
COMPANY_SUFFIXES2 = ["Group", "Holdings", "International", "Corp"]
TEAM_SUFFIXES = """United Rovers Athletic City Wanderers Rangers Hawks Lions Eagles Tigers Sharks
Albion Town""".split()
TEAM_PREFIXES = ["FC", "Real", "Sporting", "Dynamo", "Olympique", "Inter"]

REAL_BANKS = ["Deutsche Bank", "Barclays", "Citibank", "HSBC", "Goldman Sachs", "Credit Suisse",
              "Bundesbank", "Federal Reserve"]
REAL_AIRLINES = ["Lufthansa", "KLM", "Qantas", "Iberia", "British Airways", "Alitalia"]
REAL_NEWS = ["Reuters", "Associated Press", "BBC", "CNN", "AFP", "Xinhua", "Interfax"]
PARTIES = ["Labour Party", "Conservative Party", "Social Democrats", "Christian Democrats",
           "Green Party", "Liberal Democrats", "Socialist Party", "National Front",
           "Freedom Party", "Communist Party", "Labour", "Greens"]
INTORGS = ["United Nations", "UN", "European Union", "EU", "NATO", "World Bank",
           "International Monetary Fund", "IMF", "Red Cross", "World Health Organisation",
           "OPEC", "World Trade Organisation", "Council of Europe", "Interpol", "UNESCO"]
GOVBODIES = ["Senate", "Congress", "Parliament", "Bundestag", "Duma", "National Assembly",
             "House of Commons", "Supreme Court", "Constitutional Court", "Knesset"]
MINISTRIES = ["Foreign Ministry", "Finance Ministry", "Interior Ministry", "Defence Ministry",
              "Trade Ministry", "Health Ministry", "Justice Ministry"]
SPORTSBODIES = ["FIFA", "UEFA", "International Olympic Committee", "IOC"]
JOURNALS = ["Nature", "Science", "Lancet", "Cell"]
JOURNAL_FIELDS = ["Applied Physics", "Clinical Medicine", "Marine Biology", "Economic Studies"]

LANGUAGES = """English French German Spanish Arabic Chinese Russian Japanese Portuguese Hindi
Swahili Dutch Italian Turkish Polish Greek Urdu Korean""".split()
RELIGIOUS = ["Muslim", "Catholic", "Christian", "Jewish", "Buddhist", "Hindu", "Protestant",
             "Kurdish", "Basque", "Tamil", "Serb", "Croat", "Albanian", "Arab", "European",
             "Asian", "African", "Latin American", "Orthodox"]
HYPH_PREFIXES = ["Franco", "Anglo", "Sino", "Indo", "Afro", "Russo", "Greco", "Austro", "Italo",
                 "Hispano", "Turco"]
SPORT_EVENTS = ["World Cup", "Olympic Games", "Olympics", "European Championship",
                "Champions League", "UEFA Cup", "Davis Cup", "Ryder Cup", "Tour de France",
                "Super Bowl", "Commonwealth Games", "Wimbledon"]
CULT_EVENTS = ["Eurovision Song Contest", "Venice Biennale", "Edinburgh Festival"]
PRIZES = ["Nobel Prize", "Pulitzer Prize", "Booker Prize", "Fields Medal"]
REAL_PRODUCTS = ["Boeing 747", "Airbus A320", "Golf", "Walkman", "Windows", "Concorde",
                 "Beetle", "PlayStation", "iPod"]
PRODUCT_MODELS = """Nova Stratus Pulsar Vega Aero Titan Sprint Zen Comet Quasar Orbit Vector
Cirrus""".split()
STOCK_INDEXES = ["Nikkei", "FTSE 100", "DAX", "CAC-40", "Hang Seng", "Dow Jones", "Nasdaq",
                 "Bovespa"]
TITLE_ADJ = "Long Silent Last Broken Golden Hidden Red Quiet Distant Burning Empty".split()
TITLE_NOUN = "River Road Summer Garden Kingdom Promise Winter Harbour Island Mirror Journey".split()

DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
MONTHS = """January February March April May June July August September October November
December""".split()
ORDINALS = "first second third fourth fifth sixth seventh eighth ninth tenth".split()
NUM_WORDS = "two three four five six seven eight nine ten".split()

# ---------------------------------------------------------------------------------------
# Invented names (syllable-built).  Each split gets its own disjoint pool.
# ---------------------------------------------------------------------------------------

ONSETS = ["b", "br", "c", "d", "dr", "f", "g", "gr", "h", "j", "k", "kr", "l", "m", "n", "p",
          "pr", "r", "s", "sh", "st", "t", "tr", "v", "z", "th", "l", "m", "n", "r", "v", "k"]
VOWELS = ["a", "e", "i", "o", "u", "a", "e", "o", "a", "ai", "ei", "ou", "ia"]
CODAS = ["", "", "", "", "n", "r", "l", "s", "m", "k", "nd", "rt", "v", "sk"]

PRIVATE_SIZES = {  # per category: train, dev, test
    "first": (260, 90, 90), "sur": (450, 150, 150), "city": (260, 90, 90),
    "country": (70, 25, 25), "region": (60, 20, 20), "river": (30, 12, 12),
    "cstem": (260, 90, 90),
}
COUNTRY_ENDINGS = [("ia", "ian"), ("onia", "onian"), ("land", "landic"), ("stan", "stani"),
                   ("ary", "arian"), ("ea", "ean"), ("ia", "ian"), ("or", "oran")]
SUR_ENDINGS = ["", "", "", "ov", "sen", "ez", "ini", "ton", "berg", "ski", "ani", "er", "ard",
               "elli", "ov", "escu", "son"]
CITY_ENDINGS = ["", "", "burg", "ville", "grad", "port", "ford", "ena", "abad", "polis", "ton",
                "heim", "mouth", "a", "ovo"]
REGION_ENDINGS = ["ia", "shire", "ana", "esh", "ova", "", "ia"]
CSTEM_ENDINGS = ["", "", "ex", "on", "ix", "ar", "co", "tel", "ia", "a"]
FIRST_ENDINGS = ["", "", "a", "o", "in", "el", "i", "as"]


def _syllables(rng: random.Random, n: int) -> str:
    parts = []
    for i in range(n):
        onset = rng.choice(ONSETS) if (i > 0 or rng.random() < 0.85) else ""
        parts.append(onset + rng.choice(VOWELS) + (rng.choice(CODAS) if i == n - 1 or rng.random() < 0.3 else ""))
    return "".join(parts)


def _word(rng: random.Random, nmin: int, nmax: int, ending: str = "") -> str:
    stem = _syllables(rng, rng.randint(nmin, nmax))
    if ending and stem[-1] in "aeiou" and ending[0] in "aeiou":
        stem = stem[:-1]
    return (stem + ending).capitalize()


def _shared_vocabulary() -> set[str]:
    """Every word of the shared inventories and the templates (lower-cased)."""
    words: set[str] = set()
    texts = [FIRST_NAMES, SURNAMES, REGIONS, RIVERS, MOUNTAINS, REAL_COMPANIES, COMPANY_STEMS,
             COMPANY_SUFFIXES, TEAM_SUFFIXES, TEAM_PREFIXES, REAL_BANKS, REAL_AIRLINES,
             REAL_NEWS, PARTIES, INTORGS, GOVBODIES, MINISTRIES, SPORTSBODIES, JOURNALS,
             JOURNAL_FIELDS, LANGUAGES, RELIGIOUS, HYPH_PREFIXES, SPORT_EVENTS, CULT_EVENTS,
             PRIZES, REAL_PRODUCTS, PRODUCT_MODELS, STOCK_INDEXES, TITLE_ADJ, TITLE_NOUN, DAYS,
             MONTHS, ORDINALS, NUM_WORDS]
    for lst in texts:
        for item in lst:
            words.update(w.lower() for w in re.findall(r"[A-Za-z]+", item))
    for a, b in COUNTRIES + CITIES:
        words.update(w.lower() for w in re.findall(r"[A-Za-z]+", a + " " + b))
    for group in list(DOMAINS.values()) + list(SUBGRAMMARS.values()):
        for t in group:
            words.update(w.lower() for w in re.findall(r"[A-Za-z]+", t))
    return words


def build_private_pools(seed: int = SEED) -> dict[str, dict[str, list]]:
    """Split name -> category -> list of invented names; surface tokens disjoint across splits."""
    rng = random.Random(seed)
    used = _shared_vocabulary()
    pools: dict[str, dict[str, list]] = {}

    def fresh(make) -> tuple[str, ...]:
        while True:
            words = make()
            if all(w.lower() not in used and 4 <= len(w) <= 12 for w in words):
                used.update(w.lower() for w in words)
                return words

    for si, (split, _) in enumerate(SPLITS):
        p: dict[str, list] = {}
        n = {cat: sizes[si] for cat, sizes in PRIVATE_SIZES.items()}
        p["first"] = [fresh(lambda: (_word(rng, 1, 2, rng.choice(FIRST_ENDINGS)),))[0]
                      for _ in range(n["first"])]
        p["sur"] = [fresh(lambda: (_word(rng, 1, 3, rng.choice(SUR_ENDINGS)),))[0]
                    for _ in range(n["sur"])]
        countries = []
        for _ in range(n["country"]):
            def make_country():
                stem = _syllables(rng, rng.randint(1, 2))
                end, adj_end = rng.choice(COUNTRY_ENDINGS)
                if stem[-1] in "aeiou" and end[0] in "aeiou":
                    stem = stem[:-1]
                return ((stem + end).capitalize(), (stem + adj_end).capitalize())
            countries.append(fresh(make_country))
        p["country"] = countries
        cities = []
        for _ in range(n["city"]):
            name = fresh(lambda: (_word(rng, 1, 3, rng.choice(CITY_ENDINGS)),))[0]
            if rng.random() < 0.5:
                country = rng.choice(countries)
            else:
                country = rng.choice(COUNTRIES)
            cities.append((name, country[0]))
        p["city"] = cities
        p["region"] = [fresh(lambda: (_word(rng, 1, 2, rng.choice(REGION_ENDINGS)),))[0]
                       for _ in range(n["region"])]
        p["river"] = [fresh(lambda: (_word(rng, 1, 2),))[0] for _ in range(n["river"])]
        p["cstem"] = [fresh(lambda: (_word(rng, 2, 2, rng.choice(CSTEM_ENDINGS)),))[0]
                      for _ in range(n["cstem"])]
        p["country_index"] = {name: (name, adj) for name, adj in countries}
        pools[split] = p
    return pools


SHARED_POOLS = {
    "first": FIRST_NAMES, "sur": SURNAMES, "city": CITIES, "country": COUNTRIES,
    "region": REGIONS, "river": RIVERS, "cstem": COMPANY_STEMS,
}

# ---------------------------------------------------------------------------------------
# Generation context and entity builders
# ---------------------------------------------------------------------------------------


class Ctx:
    def __init__(self, rng: random.Random, private: dict[str, list]):
        self.rng = rng
        self.private = private

    def pick(self, cat: str, priv: bool):
        return self.rng.choice(self.private[cat] if priv else SHARED_POOLS[cat])

    def country(self, priv: bool) -> tuple[str, str]:
        return self.pick("country", priv)

    def city(self, priv: bool) -> tuple[str, tuple[str, str]]:
        name, cname = self.pick("city", priv)
        country = _COUNTRY_BY_NAME.get(cname) or self.private["country_index"][cname]
        return name, country

    def chance(self, p: float) -> bool:
        return self.rng.random() < p


def _tok(*parts: str) -> list[str]:
    out: list[str] = []
    for p in parts:
        out.extend(p.split())
    return out


def b_person(c: Ctx, priv: bool, shape: str = "any") -> list[str]:
    r = c.rng.random()
    first = c.pick("first", priv and c.chance(0.5))
    sur = c.pick("sur", priv)
    if shape == "sur" or (shape == "any" and 0.62 <= r < 0.84):
        return _tok(sur)
    if shape == "full" or r < 0.62:
        return _tok(first, sur)
    if r < 0.93:
        return _tok(first[0] + ".", sur)
    return _tok(first, c.pick("first", False)[0] + ".", sur)


def b_first(c: Ctx, priv: bool) -> list[str]:
    return [c.pick("first", priv)]


def b_country(c: Ctx, priv: bool) -> list[str]:
    return _tok(c.country(priv)[0])


def b_city(c: Ctx, priv: bool) -> list[str]:
    return _tok(c.city(priv)[0])


def b_region(c: Ctx, priv: bool) -> list[str]:
    name = c.pick("region", priv)
    if priv and c.chance(0.2):
        return _tok(c.rng.choice(["North", "South", "East", "West", "Upper"]), name)
    return _tok(name)


def b_river(c: Ctx, priv: bool) -> list[str]:
    name = c.pick("river", priv)
    return _tok(name, "River") if priv and c.chance(0.4) else _tok(name)


def b_mountain(c: Ctx, priv: bool) -> list[str]:
    if priv:
        return _tok(c.rng.choice(["Mount", "Lake", "Cape"]), c.pick("region", True))
    return _tok(c.rng.choice(MOUNTAINS))


def b_loc(c: Ctx, priv: bool) -> list[str]:
    r = c.rng.random()
    if r < 0.45:
        return b_city(c, priv)
    if r < 0.75:
        return b_country(c, priv)
    if r < 0.9:
        return b_region(c, priv)
    return b_river(c, priv)


def b_company(c: Ctx, priv: bool) -> list[str]:
    rng = c.rng
    if not priv and c.chance(0.3):
        return _tok(rng.choice(REAL_COMPANIES))
    r = rng.random()
    if r < 0.05:
        return _tok(c.pick("sur", priv), "&", c.pick("sur", priv and c.chance(0.5)))
    stem = c.pick("cstem", priv)
    if r < 0.3:
        return [stem]
    if r < 0.85:
        return [stem, rng.choice(COMPANY_SUFFIXES)]
    if r < 0.93:
        return [stem, rng.choice(["Energy", "Media", "Steel", "Foods"]), rng.choice(COMPANY_SUFFIXES2)]
    return _tok(c.country(priv)[0], rng.choice(["Telecom", "Steel", "Rail", "Post"]))


def b_bank(c: Ctx, priv: bool) -> list[str]:
    rng = c.rng
    r = rng.random()
    if not priv and r < 0.3:
        return _tok(rng.choice(REAL_BANKS))
    if r < 0.5:
        return [c.pick("cstem", priv), "Bank"]
    if r < 0.7:
        return _tok("Bank of", c.country(priv)[0])
    if r < 0.8:
        return _tok(c.city(priv)[0], "Savings Bank")
    if r < 0.9:
        return _tok("National Bank of", c.country(priv)[0])
    return _tok(c.pick("sur", priv), rng.choice(["Brothers", "& Co"]))


def b_airline(c: Ctx, priv: bool) -> list[str]:
    rng = c.rng
    r = rng.random()
    if not priv and r < 0.3:
        return _tok(rng.choice(REAL_AIRLINES))
    if r < 0.5:
        return _tok(c.country(priv)[1], "Airlines")
    if r < 0.7:
        return _tok("Air", c.country(priv)[0])
    return [c.pick("cstem", priv), rng.choice(["Air", "Airways", "Aviation"])]


def b_news(c: Ctx, priv: bool) -> list[str]:
    rng = c.rng
    r = rng.random()
    if not priv and r < 0.5:
        return _tok(rng.choice(REAL_NEWS))
    if r < 0.65:
        return _tok(c.city(priv)[0], rng.choice(["Times", "Herald", "Post", "Gazette"]))
    if r < 0.8:
        return [c.pick("cstem", priv), "News"]
    if r < 0.9:
        return _tok("Radio", c.country(priv)[0])
    return _tok(c.country(priv)[1], "Broadcasting Corporation")


def b_univ(c: Ctx, priv: bool) -> list[str]:
    r = c.rng.random()
    if r < 0.35:
        return _tok("University of", c.city(priv)[0])
    if r < 0.6:
        return _tok(c.city(priv)[0], "University")
    if r < 0.72:
        return [c.pick("cstem", priv), "Institute", "of", "Technology"]
    if r < 0.84:
        return _tok(c.pick("sur", priv), "College")
    if r < 0.92:
        return _tok(c.city(priv)[0], "Medical School")
    return _tok(c.country(priv)[1], "Academy of Sciences")


def b_party(c: Ctx, priv: bool) -> list[str]:
    rng = c.rng
    if not priv and c.chance(0.5):
        return _tok(rng.choice(PARTIES))
    r = rng.random()
    adj = c.country(priv)[1]
    if r < 0.3:
        return _tok(adj, "People 's Party")
    if r < 0.6:
        return _tok(adj, rng.choice(["National Party", "Workers Party", "Socialist Party"]))
    if r < 0.8:
        return _tok("Party of", c.pick("region", priv))
    return [c.pick("cstem", priv), "Party"]


def b_intorg(c: Ctx, priv: bool) -> list[str]:
    rng = c.rng
    if not priv:
        if c.chance(0.15):
            return _tok(c.country(False)[1], "Red Crescent")
        return _tok(rng.choice(INTORGS))
    r = rng.random()
    if r < 0.4:
        return _tok(c.country(True)[1], "Development Bank")
    if r < 0.7:
        return [c.pick("cstem", True), rng.choice(["Foundation", "Council", "Alliance"])]
    return _tok(c.pick("region", True), "Cooperation Council")


def b_govbody(c: Ctx, priv: bool) -> list[str]:
    if priv or c.chance(0.15):
        return _tok(c.city(priv)[0], "City Council")
    return _tok(c.rng.choice(GOVBODIES))


def b_ministry(c: Ctx, priv: bool) -> list[str]:
    return _tok(c.rng.choice(MINISTRIES))


def b_sportsbody(c: Ctx, priv: bool) -> list[str]:
    rng = c.rng
    if not priv and c.chance(0.5):
        return _tok(rng.choice(SPORTSBODIES))
    if c.chance(0.6):
        return _tok(c.country(priv)[1], rng.choice(["Football Association", "Tennis Federation",
                                                     "Rugby Union", "Olympic Committee"]))
    return [c.pick("cstem", priv), "Football", "League"]


def b_team(c: Ctx, priv: bool) -> list[str]:
    rng = c.rng
    city = c.city(priv)[0]
    r = rng.random()
    if r < 0.3:
        return _tok(city)
    if r < 0.8:
        return _tok(city, rng.choice(TEAM_SUFFIXES))
    if r < 0.9:
        return _tok(rng.choice(TEAM_PREFIXES), city)
    return [c.pick("cstem", priv), rng.choice(TEAM_SUFFIXES)]


def b_journal(c: Ctx, priv: bool) -> list[str]:
    if priv:
        return [c.pick("cstem", True), "Review"]
    if c.chance(0.3):
        return _tok("Journal of", c.rng.choice(JOURNAL_FIELDS))
    return _tok(c.rng.choice(JOURNALS))


def b_org(c: Ctx, priv: bool) -> list[str]:
    r = c.rng.random()
    for limit, fn in ((0.4, b_company), (0.52, b_intorg), (0.62, b_news), (0.72, b_univ),
                      (0.82, b_party), (0.92, b_bank), (1.01, b_govbody)):
        if r < limit:
            return fn(c, priv)
    raise AssertionError


def b_nat(c: Ctx, priv: bool) -> list[str]:
    return _tok(c.country(priv)[1])


def b_lang(c: Ctx, priv: bool) -> list[str]:
    if priv:
        return [c.country(True)[1]]
    return [c.rng.choice(LANGUAGES)]


def b_relig(c: Ctx, priv: bool) -> list[str]:
    return _tok(c.rng.choice(RELIGIOUS))


def b_hyph(c: Ctx, priv: bool) -> list[str]:
    adj = c.country(priv)[1]
    while " " in adj:
        adj = c.country(priv)[1]
    return [c.rng.choice(HYPH_PREFIXES) + "-" + adj]


def b_sportevent(c: Ctx, priv: bool) -> list[str]:
    rng = c.rng
    if not priv and c.chance(0.45):
        return _tok(rng.choice(SPORT_EVENTS))
    r = rng.random()
    if r < 0.2:
        return _tok(c.country(priv)[1], "Open")
    if r < 0.35:
        return _tok(c.country(priv)[1], "Grand Prix")
    if r < 0.5:
        return _tok(c.city(priv)[0], "Marathon")
    if r < 0.65:
        return _tok(c.city(priv)[0], rng.choice(["Masters", "Classic", "Open"]))
    if r < 0.8:
        return _tok(c.country(priv)[1], rng.choice(["Cup", "Championship", "Championships"]))
    return [c.pick("cstem", priv), "Trophy"]


def b_cultevent(c: Ctx, priv: bool) -> list[str]:
    if not priv and c.chance(0.25):
        return _tok(c.rng.choice(CULT_EVENTS))
    return _tok(c.city(priv)[0], c.rng.choice(["Film Festival", "Motor Show", "Book Fair",
                                               "Jazz Festival", "Biennale"]))


def b_prize(c: Ctx, priv: bool) -> list[str]:
    if not priv and c.chance(0.5):
        return _tok(c.rng.choice(PRIZES))
    return _tok(c.pick("sur", priv), c.rng.choice(["Prize", "Medal", "Award"]))


def b_product(c: Ctx, priv: bool) -> list[str]:
    rng = c.rng
    if not priv and c.chance(0.25):
        return _tok(rng.choice(REAL_PRODUCTS))
    stem = c.pick("cstem", priv)
    code = rng.choice(["X%d" % rng.randint(1, 9), str(rng.randint(1, 9) * 100),
                       "A%d" % rng.randint(10, 99), "II", "S"])
    r = rng.random()
    if r < 0.4:
        return [stem, rng.choice(PRODUCT_MODELS)]
    if r < 0.75:
        return [stem, code]
    return [stem, rng.choice(PRODUCT_MODELS), code]


def b_title(c: Ctx, priv: bool) -> list[str]:
    rng = c.rng
    r = rng.random()
    if not priv:
        if r < 0.5:
            return ["The", rng.choice(TITLE_ADJ), rng.choice(TITLE_NOUN)]
        if r < 0.8:
            return [rng.choice(TITLE_ADJ), rng.choice(TITLE_NOUN)]
        return _tok(rng.choice(TITLE_NOUN), "of", c.city(False)[0])
    if r < 0.4:
        return _tok("Return to", c.city(True)[0])
    if r < 0.7:
        return [c.pick("first", True), rng.choice(["Rising", "Forever", "Alone"])]
    return ["The", c.pick("sur", True), rng.choice(TITLE_NOUN)]


def b_stockindex(c: Ctx, priv: bool) -> list[str]:
    if not priv and c.chance(0.6):
        return _tok(c.rng.choice(STOCK_INDEXES))
    return _tok(c.city(priv)[0], c.rng.choice(["Composite", "All-Share"]))


def b_misc(c: Ctx, priv: bool) -> list[str]:
    r = c.rng.random()
    for limit, fn in ((0.5, b_nat), (0.65, b_sportevent), (0.75, b_lang), (0.85, b_product),
                      (0.95, b_relig), (1.01, b_hyph)):
        if r < limit:
            return fn(c, priv)
    raise AssertionError


def _tagged(tokens: list[str], typ: str) -> list[tuple[str, str]]:
    return [(t, ("B-" if i == 0 else "I-") + typ) for i, t in enumerate(tokens)]


def entity_slot(typ: str, builder, private_ok: bool = True):
    def slot(c: Ctx) -> list[tuple[str, str]]:
        priv = private_ok and c.chance(P_PRIVATE)
        for _ in range(50):
            toks = builder(c, priv)
            if len(toks) <= MAX_ENTITY_TOKENS:
                return _tagged(toks, typ)
        raise RuntimeError("could not build a short %s entity" % typ)
    return slot


def person_slot(shape: str):
    return entity_slot("PER", lambda c, priv: b_person(c, priv, shape))


def city_in_slot(c: Ctx) -> list[tuple[str, str]]:
    priv = c.chance(P_PRIVATE)
    name, country = c.city(priv)
    out = _tagged(_tok(name), "LOC")
    if c.chance(0.7):
        return out + [("(", "O")] + _tagged(_tok(country[0]), "LOC") + [(")", "O")]
    return out + [(",", "O")] + _tagged(_tok(country[0]), "LOC")


def dateline_slot(c: Ctx) -> list[tuple[str, str]]:
    priv = c.chance(P_PRIVATE)
    name, country = c.city(priv)
    out = _tagged([t.upper() for t in _tok(name)], "LOC")
    if c.chance(0.4):
        out += [(",", "O")] + _tagged([t.upper() for t in _tok(country[0])], "LOC")
        out += iso_date(c)
    else:
        out += iso_date(c) + [("(", "O")] + entity_slot("ORG", b_news)(c) + [(")", "O"), ("-", "O")]
    return out


# ---------------------------------------------------------------------------------------
# Non-entity fillers (all tagged O)
# ---------------------------------------------------------------------------------------


def _o(*tokens: str) -> list[tuple[str, str]]:
    return [(t, "O") for t in tokens]


def num(c: Ctx) -> list[tuple[str, str]]:
    r = c.rng.random()
    return _o(str(c.rng.randint(2, 20) if r < 0.6 else c.rng.randint(21, 99)))


def bignum(c: Ctx) -> list[tuple[str, str]]:
    rng = c.rng
    return _o(rng.choice([str(rng.randint(100, 999)), f"{rng.randint(1000, 99999):,}",
                          f"{rng.randint(100, 999) * 1000:,}"]))


def dec(c: Ctx) -> list[tuple[str, str]]:
    rng = c.rng
    return _o("%d.%d" % (rng.randint(0, 30), rng.randint(0, 9)) if rng.random() < 0.7
              else "%d.%02d" % (rng.randint(0, 99), rng.randint(0, 99)))


def pct(c: Ctx) -> list[tuple[str, str]]:
    return dec(c) + _o(c.rng.choice(["percent", "percent", "pct", "%"]))


def money(c: Ctx) -> list[tuple[str, str]]:
    rng = c.rng
    amount = dec(c)[0][0]
    r = rng.random()
    if r < 0.35:
        return _o("$", amount, rng.choice(["million", "billion"]))
    if r < 0.7:
        return _o(amount, rng.choice(["million", "billion"]),
                  rng.choice(["dollars", "euros", "pounds", "marks", "francs", "yen"]))
    return bignum(c) + _o(rng.choice(["dollars", "euros", "pounds", "crowns"]))


def price(c: Ctx) -> list[tuple[str, str]]:
    return _o("%d.%02d" % (c.rng.randint(5, 999), c.rng.randint(0, 99)))


def score(c: Ctx) -> list[tuple[str, str]]:
    return _o("%d-%d" % (c.rng.randint(0, 5), c.rng.randint(0, 4)))


def goals(c: Ctx) -> list[tuple[str, str]]:
    return _o(str(c.rng.randint(0, 5)))


def tscore(c: Ctx) -> list[tuple[str, str]]:
    rng = c.rng
    sets = [rng.choice(["6-%d" % rng.randint(0, 4), "7-5", "7-6", "%d-6" % rng.randint(2, 4)])
            for _ in range(rng.randint(2, 3))]
    return _o(*sets)


def golf(c: Ctx) -> list[tuple[str, str]]:
    return _o(*[str(c.rng.randint(64, 78)) for _ in range(c.rng.randint(2, 4))])


def timemin(c: Ctx) -> list[tuple[str, str]]:
    rng = c.rng
    return _o("%d:%02d:%02d" % (rng.randint(1, 4), rng.randint(0, 59), rng.randint(0, 59)))


def minute(c: Ctx) -> list[tuple[str, str]]:
    n = c.rng.randint(2, 90)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return _o("%d%s" % (n, suffix))


def iso_date(c: Ctx) -> list[tuple[str, str]]:
    rng = c.rng
    return _o("%d-%02d-%02d" % (rng.randint(1990, 2024), rng.randint(1, 12), rng.randint(1, 28)))


def date(c: Ctx) -> list[tuple[str, str]]:
    rng = c.rng
    m, d = rng.choice(MONTHS), str(rng.randint(1, 28))
    r = rng.random()
    if r < 0.4:
        return _o(m, d)
    if r < 0.7:
        return _o(d, m)
    return _o(m, str(rng.randint(1990, 2024)))


def hyph_num(unit: str):
    def fill(c: Ctx) -> list[tuple[str, str]]:
        n = c.rng.choice(NUM_WORDS) if c.chance(0.4) else str(c.rng.randint(2, 30))
        return _o("%s-%s" % (n, unit))
    return fill


def choice_of(words):
    return lambda c: _o(*c.rng.choice(words).split())


SLOTS = {
    # entities
    "PER": person_slot("any"), "PERFULL": person_slot("full"), "PERSUR": person_slot("sur"),
    "FIRST": entity_slot("PER", b_first),
    "LOC": entity_slot("LOC", b_loc), "CITY": entity_slot("LOC", b_city),
    "COUNTRY": entity_slot("LOC", b_country), "NATTEAM": entity_slot("LOC", b_country),
    "REGION": entity_slot("LOC", b_region), "RIVER": entity_slot("LOC", b_river),
    "MOUNT": entity_slot("LOC", b_mountain), "CITY_IN": city_in_slot, "DATELINE": dateline_slot,
    "ORG": entity_slot("ORG", b_org), "COMPANY": entity_slot("ORG", b_company),
    "BANK": entity_slot("ORG", b_bank), "AIRLINE": entity_slot("ORG", b_airline),
    "NEWSORG": entity_slot("ORG", b_news), "UNIV": entity_slot("ORG", b_univ),
    "PARTY": entity_slot("ORG", b_party), "INTORG": entity_slot("ORG", b_intorg),
    "GOVBODY": entity_slot("ORG", b_govbody), "MINISTRY": entity_slot("ORG", b_ministry, False),
    "SPORTSBODY": entity_slot("ORG", b_sportsbody), "TEAM": entity_slot("ORG", b_team),
    "JOURNAL": entity_slot("ORG", b_journal),
    "MISC": entity_slot("MISC", b_misc), "NAT": entity_slot("MISC", b_nat),
    "LANG": entity_slot("MISC", b_lang), "RELIG": entity_slot("MISC", b_relig, False),
    "HYPHADJ": entity_slot("MISC", b_hyph), "SPORTEVENT": entity_slot("MISC", b_sportevent),
    "CULTEVENT": entity_slot("MISC", b_cultevent), "PRIZE": entity_slot("MISC", b_prize),
    "PRODUCT": entity_slot("MISC", b_product), "TITLE": entity_slot("MISC", b_title),
    "STOCKINDEX": entity_slot("MISC", b_stockindex),
    # O fillers
    "NUM": num, "BIGNUM": bignum, "DEC": dec, "PCT": pct, "MONEY": money, "PRICE": price,
    "SCORE": score, "GOALS": goals, "TSCORE": tscore, "GOLF": golf, "TIMEMIN": timemin,
    "MINUTE": minute, "ISODATE": iso_date, "DATE": date,
    "DAY": choice_of(DAYS), "MONTH": choice_of(MONTHS), "ORDINAL": choice_of(ORDINALS),
    "YEAR": lambda c: _o(str(c.rng.randint(1985, 2024))),
    "AGE": lambda c: _o("%d-year-old" % c.rng.randint(17, 80)),
    "NDAY": hyph_num("day"), "NSTOREY": hyph_num("storey"),
    "AGEN": lambda c: _o(str(c.rng.randint(19, 94))), "NHOUR": hyph_num("hour"), "NYEAR": hyph_num("year"),
    "KM": hyph_num("km"), "NNATION": hyph_num("nation"),
    "UNDERPAR": lambda c: _o("%s-under-par" % c.rng.choice(NUM_WORDS[:6])),
    "GOLFN": lambda c: _o(str(c.rng.randint(63, 70))),
    "DISEASE": choice_of(["malaria", "cholera", "measles", "influenza", "tuberculosis",
                          "yellow fever", "polio", "dengue fever"]),
    "FIELD": choice_of(["physics", "genetics", "economics", "chemistry", "climate research",
                        "computer science", "neuroscience", "marine biology"]),
    "TOPIC": choice_of(["climate change", "gene therapy", "dark matter", "the immune system",
                        "solar energy", "ocean currents", "plate tectonics", "protein folding",
                        "memory and sleep", "soil erosion", "bird migration"]),
}

# Sub-grammars: slots that expand to one of several templates.
SUBGRAMMARS = {
    "CLAUSE": [
        "the talks had been {useful|constructive|difficult}",
        "{COUNTRY} would not accept the proposal",
        "there was no need for new elections",
        "the government would cut taxes by {PCT}",
        "the {INTORG} should do more to help refugees",
        "relations with {COUNTRY} had improved",
        "{PERSUR} had agreed to meet {PERSUR} in {CITY}",
        "the ceasefire in {REGION} was holding",
        "{NAT} troops would stay until {YEAR}",
        "the economy would grow by {PCT} this year",
        "no decision had been taken",
        "the country would apply to join the {INTORG}",
        "{his|her} government would not negotiate with the rebels",
        "the election would go ahead as planned",
    ],
    "ECONCLAUSE": [
        "the {NAT} economy was slowing",
        "interest rates would probably fall {next month|in {MONTH}}",
        "the market had overreacted",
        "{COMPANY} shares looked cheap",
        "the dollar could rise further against the yen",
        "inflation would stay below {PCT}",
        "demand from {COUNTRY} remained weak",
        "bond prices may recover later in the year",
    ],
    "ISSUE": [
        "the budget", "nuclear testing", "fishing rights", "the future of {REGION}",
        "tax reform", "immigration", "trade barriers", "the peace process", "water rights",
        "the border dispute with {COUNTRY}", "pension reform", "energy prices",
        "the status of {CITY}",
    ],
    "QUOTE": [
        "We are very happy with the result", "This is a difficult time for everyone",
        "It was a very hard match", "We will continue to work for peace",
        "The market remains nervous", "Nobody expected this",
        "I think we can win the title", "There is no alternative to dialogue",
        "The situation is under control", "We need more time",
        "Prices may go up again next year", "I am not going to resign",
    ],
    "TAIL": [
        ", {officials|witnesses|diplomats|analysts|police} said",
        ", {NEWSORG} reported",
        ", according to {NEWSORG}",
        ", a spokesman said",
        ", {PERSUR} said",
        ", the {NAT} news agency said",
    ],
}

DOMAINS = {
    "sports": [
        "{TEAM} beat {TEAM} {SCORE} [in {a|their} {SPORTEVENT} {match|tie|game}] [on {DAY}] .",
        "{TEAM} {GOALS} {TEAM} {GOALS}",
        "{TEAM} {GOALS} {TEAM} {GOALS} ( halftime {SCORE} )",
        "{PER} scored {twice|a hat-trick|the winner|an early goal|in the {MINUTE} minute} as {TEAM} {beat|defeated|overcame|crushed} {TEAM} {SCORE} .",
        "{NATTEAM} drew {SCORE} with {NATTEAM} in a {SPORTEVENT} qualifier in {CITY} [on {DAY}] .",
        "{PERFULL} ( {COUNTRY} ) {GOLF}",
        "{PERFULL} ( {COUNTRY} ) beat {PERFULL} ( {COUNTRY} ) {TSCORE}",
        "{NUM} . {PERFULL} ( {COUNTRY} ) {TIMEMIN}",
        "{NAT} {striker|midfielder|defender|goalkeeper|international} {PERFULL} has signed a {two-year|three-year|four-year|one-year} contract with {TEAM} .",
        '{TEAM} {coach|manager} {PERFULL} said : " We {played well|were unlucky|deserved to win|made too many mistakes} [{today|in the second half}] . "',
        "{PERFULL} won the {SPORTEVENT} on {DAY} , beating {PERSUR} of {COUNTRY} in the final .",
        "{PERFULL} , who joined {TEAM} from {TEAM} last season , {was sent off|scored twice|was injured|came on as a substitute} in the {first|second} half .",
        "Scorers : {PERSUR} ( {NUM} ) , {PERSUR} ( {NUM} ) [, {PERSUR} ( {NUM} )] .",
        "Attendance : {BIGNUM}",
        "{TEAM} {lead|top} the standings with {NUM} points from {NUM} games , {NUM} ahead of {TEAM} .",
        "{PERFULL} of {COUNTRY} set a new {world|national|{NAT}} record of {DEC} seconds in the {100|200|400|800} metres at the {SPORTEVENT} .",
        "{NATTEAM} captain {PERFULL} will miss the {SPORTEVENT} with a {knee|hamstring|back|shoulder|ankle} injury .",
        "The {AGE} {PERSUR} finished {ORDINAL} , {DEC} seconds behind {PERFULL} .",
        "{TEAM} , {ORDINAL} in the table , {host|visit|play} {TEAM} on {DAY} .",
        "{PER} {retired|withdrew} {hurt|injured|} in the {ORDINAL} set against {PER} .",
        "{NATTEAM} {NUM} for {NUM} ( {PERSUR} {NUM} not out , {PERSUR} {NUM} )",
        "{NATTEAM} were bowled out for {NUM} in reply to {NATTEAM} 's {NUM} [on the {ORDINAL} day] .",
        "{NAT} {cyclist|swimmer|runner|skier|sprinter} {PERFULL} won the gold medal in the {NUM} metres [at the {SPORTEVENT}] .",
        "The match between {TEAM} and {TEAM} was postponed because of {bad weather|a waterlogged pitch|crowd trouble|a frozen pitch} .",
        "{PERFULL} took the lead in the {SPORTEVENT} after the {ORDINAL} stage from {CITY} to {CITY} .",
        "{TEAM} manager {PERSUR} was fined {MONEY} by {SPORTSBODY} [for comments about the referee] .",
        "He has played {NUM} times for {NATTEAM} [and scored {NUM} goals] .",
        "{PERSUR} 's goal in the {MINUTE} minute gave {TEAM} a {SCORE} win [over {TEAM}] .",
        "{PER} ( {TEAM} ) {NUM}",
        "{PERFULL} , driving a {COMPANY} , won the {SPORTEVENT} [ahead of {PERFULL}] .",
        "{SPORTSBODY} {banned|suspended} {PERFULL} for {NUM} {matches|months} after {a failed drugs test|a clash with the referee} .",
        "{TEAM} , who {won|lost} {SCORE} [at home] to {TEAM} last week , are {ORDINAL} with {NUM} points .",
        "{NAT} champion {PER} {beat|lost to} {NAT} {qualifier|teenager|veteran} {PERFULL} {TSCORE} in the {first|second|third} round .",
        "{TEAM} have agreed to sell {PERSUR} to {TEAM} for {MONEY} , the club said on {DAY} .",
        "{PERFULL} ( {TEAM} ) was {booked|sent off} in the {MINUTE} minute for a foul on {PERFULL} .",
        "Results of {NAT} {league|cup} matches played on {DAY} :",
        "Leading {scores|positions} after the {ORDINAL} round of the {SPORTEVENT} :",
        "{NATTEAM} , the {defending|reigning} champions , {face|meet|play} {NATTEAM} in {CITY} [on {DAY}] .",
        "{PER} carded a {UNDERPAR} {GOLFN} to share the lead with {PER} and {PER} .",
        "Rain {stopped|delayed} play after {NUM} overs [at {CITY}] .",
        "The {TEAM} {defence|midfield} was weakened by the absence of {PERSUR} and {PERSUR} .",
        "{PERSUR} , the {NAT} number {NUM} , needed only {NUM} minutes to beat {PERSUR} .",
        "{NATTEAM} 's {PERFULL} equalised with a header [in the {MINUTE} minute] .",
        "{FIRST} {PERSUR} won {NUM} titles before joining {TEAM} in {YEAR} .",
        "{TEAM} will play {TEAM} or {TEAM} in the {SPORTEVENT} semi-finals .",
        "{TEAM} {NUM} {NUM} {NUM} {NUM} {NUM} {NUM} {NUM}",
        "{PERSUR} {MINUTE} , {PERSUR} {MINUTE}",
        "{PERFULL} ( {COUNTRY} ) {TIMEMIN}",
        "{PERSUR} won in straight sets .",
        "{TEAM} v {TEAM}",
        "{NAT} {PERFULL} {beat|lost to|overcame} {NAT} {PERFULL} {TSCORE} .",
        "{NAT} {PERFULL} , {ORDINAL} last year , {won|finished second in} the {SPORTEVENT} .",
        "{PERSUR} {retired|was dropped} .",
        "The {SPORTEVENT} final will be played in {CITY_IN} on {DATE} .",
    ],
    "politics": [
        "{NAT} {President|Prime Minister|Foreign Minister|Finance Minister} {PERFULL} said [on {DAY}] that {CLAUSE} .",
        "{COUNTRY} 's {foreign minister|prime minister|finance minister|defence minister} , {PERFULL} , will visit {CITY} {next week|on {DAY}|in {MONTH}} for talks with {NAT} {officials|leaders|counterpart {PERFULL}} .",
        "The {PARTY} won {NUM} of the {NUM} seats in {the {GOVBODY}|parliament} .",
        "{PERFULL} , leader of the {PARTY} , called for {early elections|talks with the opposition|a referendum on {ISSUE}} .",
        "Talks between {COUNTRY} and {COUNTRY} {ended|broke down|resumed} in {CITY} on {DAY} [without agreement] .",
        "{INTORG} {envoy|spokesman|official} {PERFULL} arrived in {CITY} on {DAY} [for talks on {ISSUE}] .",
        "Police said {NUM} people were {killed|wounded|arrested} in {clashes|a bomb attack|riots|street protests} in {LOC} [on {DAY}] .",
        '" We will not {give in|negotiate} {under pressure|with terrorists|on this issue} , " {PERSUR} told {NEWSORG} .',
        '" {QUOTE} , " {PERFULL} told reporters [in {CITY}] .',
        "Voters in {REGION} go to the polls on {DAY} to elect a new {governor|parliament|president|mayor} .",
        "The {GOVBODY} voted {NUM} to {NUM} to {approve|reject} {the budget|the bill|the treaty|the proposal} .",
        "{COUNTRY} recalled its ambassador to {COUNTRY} after {a row over {ISSUE}|the expulsion of {NUM} diplomats} .",
        "{NAT} and {NAT} officials met in {CITY} [on {DAY}] to discuss {ISSUE} .",
        "{PERFULL} was elected {mayor of {CITY}|president of {COUNTRY}|chairman of the {PARTY}} with {PCT} of the vote .",
        "The opposition {PARTY} accused {PERSUR} of {corruption|lying to parliament|mismanaging the economy} .",
        "About {BIGNUM} people marched through {CITY} on {DAY} to protest against {ISSUE} .",
        "{COUNTRY} and {COUNTRY} signed a {trade|peace|border|fishing|defence} agreement in {CITY} [on {DATE}] .",
        "The {INTORG} said {BIGNUM} refugees had fled to {COUNTRY} since {MONTH} .",
        "{PERFULL} , {AGEN} , has been {president|prime minister|in power} since {YEAR} .",
        "Prime Minister {PERSUR} will {resign|stand for re-election|reshuffle his cabinet} {next month|in {MONTH}|after the summit} , {a spokesman|aides|officials} said .",
        "{PERFULL} , the {NAT} {ambassador|envoy} to the {INTORG} , said {CLAUSE} .",
        "The {NAT} {MINISTRY} said in a statement that {CLAUSE} .",
        "{MINISTRY} spokesman {PERFULL} {denied|confirmed} the report .",
        "{NAT} troops {crossed into|withdrew from|were deployed in} {REGION} [on {DAY}] , {officials|witnesses|diplomats} said .",
        "King {FIRST} of {COUNTRY} {arrived in|left} {CITY} [on {DAY}] for a {NDAY} {visit|state visit} .",
        "The {INTORG} {urged|called on} {COUNTRY} to {hold free elections|release political prisoners|end the fighting in {REGION}} .",
        "{COUNTRY} rejected {NAT} claims that its troops had entered {REGION} .",
        "{PERSUR} , a {member of the {PARTY}|former {NAT} diplomat|close ally of {PERSUR}} , {will head|was appointed to} the {commission|delegation|committee} .",
        "{RELIG} leaders in {REGION} condemned the {attack|decision|violence} .",
        "The {HYPHADJ} {summit|talks|treaty|border commission} {will be held|opened|ended} in {CITY} [on {DAY}] .",
        "The {GOVBODY} {approved|rejected} a motion of no confidence in {PERSUR} 's government .",
        "Opinion polls show {PERSUR} {leading|trailing} {PERSUR} by {NUM} points ahead of the {MONTH} election .",
        "The {NAT} {embassy|consulate} in {CITY} was closed [on {DAY}] after {threats|protests|a bomb scare} .",
        "{PERFULL} said {he|she} would not seek a {second|third} term .",
        "{COUNTRY} , {COUNTRY} and {COUNTRY} agreed to set up a joint {commission|force|fund} [to fight {smuggling|drug trafficking}] .",
        "{CITY} and {CITY} have been at odds over {ISSUE} since {YEAR} .",
        "President {PERSUR} {met|telephoned} {NAT} leader {PERFULL} [on {DAY}] to discuss {ISSUE} .",
        "{PERSUR} told the {GOVBODY} that {CLAUSE} .",
        "{PERSUR} denied the report .",
        "{NAT} {PERFULL} , {AGEN} , was sworn in as {president|prime minister} of {COUNTRY} .",
        "{PERSUR} {resigned|was re-elected} on {DAY} .",
        "{COUNTRY} {denied|welcomed} the move .",
        "{INTORG} {condemns|welcomes} {NAT} vote .",
        "{NUM} {RELIG} rebels were killed in fighting with government forces in {REGION} , the army said .",
        "The {INTORG} has {NUM} observers in {COUNTRY} monitoring the ceasefire .",
    ],
    "business": [
        "{COMPANY} said its {first-quarter|second-quarter|half-year|annual|nine-month} {net profit|pretax profit|operating profit|revenue|net loss} {rose|fell|jumped|slipped} {PCT} to {MONEY} .",
        "Shares in {COMPANY} {rose|fell} {DEC} {pence|cents|percent} to {PRICE} in {CITY} [on {DAY}] .",
        "{COUNTRY} 's {COMPANY} {agreed to buy|said it would acquire|has bid for} {a stake in|} {COMPANY} for {MONEY} .",
        "{COMPANY} chief executive {PERFULL} told {NEWSORG} the {merger|deal|restructuring} would {save|cost} {MONEY} .",
        "The {NAT} central bank {left its key interest rate unchanged|raised interest rates to {PCT}|cut its discount rate to {PCT}} [on {DAY}] .",
        "{BANK} {economist|analyst|strategist} {PERFULL} said {ECONCLAUSE} .",
        "{COMPANY} , based in {CITY} , {makes|produces|sells} {car parts|chemicals|software|medical equipment|steel|paper} .",
        "{COMPANY} will launch the {PRODUCT} in {COUNTRY} {next year|in {MONTH}} .",
        "{COUNTRY} 's trade surplus {widened|narrowed} to {MONEY} in {MONTH} from {MONEY} a year earlier .",
        "Inflation in {COUNTRY} {rose|fell|was steady} {to|at} {PCT} in {MONTH} , the {statistics office|central bank|government} said .",
        "The dollar {rose|fell|edged up|slipped} to {DEC} yen [in {CITY}] [on {DAY}] .",
        "{COMPANY} {will cut|plans to cut|said it would cut} {BIGNUM} jobs [in {COUNTRY}] [by {YEAR}] .",
        "{COMPANY} and {COMPANY} announced a {joint venture|merger|partnership} to {build|develop|sell} {cars|aircraft engines|mobile phones|drugs} in {COUNTRY} .",
        "{COUNTRY} 's {apple|wheat|coffee|cocoa|rice} {crop|harvest|exports} {is expected to|could|may} {rise|fall} {PCT} this year .",
        "Prices of apples and pears fell {PCT} in {MONTH} , while turkey and chicken prices rose .",
        "Sales of {turkey|apple juice|fine china|olive oil|shell fish} {rose|fell} {PCT} [in {COUNTRY}] last year .",
        "{PERFULL} , chairman of {COMPANY} , {resigned|stepped down|was replaced} {on {DAY}|last week} .",
        "The {STOCKINDEX} {rose|fell|closed} {DEC} points {higher|lower|} at {PRICE} [on {DAY}] .",
        "{COMPANY} said it expected {sales|profits|demand} to {improve|weaken} in the second half .",
        "{AIRLINE} ordered {NUM} {PRODUCT} aircraft worth {MONEY} .",
        "{NEWSORG} reported that {COMPANY} was in talks to sell its {chemicals|insurance|retail|media} unit to {COMPANY} .",
        "Oil prices {rose|fell} to {MONEY} a barrel after {{COUNTRY}|the {INTORG}} {agreed to|refused to} cut output .",
        "{COMPANY} , the {NAT} {chemicals|engineering|insurance|media|food} group , {reported|posted} a {PCT} {rise|fall} in {profits|sales} .",
        "{COMPANY} shares {jumped|slumped} {PCT} after the company {raised|cut} its {YEAR} forecast .",
        "{PERFULL} , {an analyst|a trader|a fund manager} at {BANK} in {CITY} , said {ECONCLAUSE} .",
        "{COMPANY} {opened|closed} a {factory|plant|office} in {CITY_IN} , {creating|cutting} {BIGNUM} jobs .",
        "The {PRODUCT} has sold {BIGNUM} units since its launch in {MONTH} .",
        "{COUNTRY} 's gross domestic product grew {PCT} in the {first|second|third|fourth} quarter .",
        "{BANK} raised its stake in {COMPANY} to {PCT} .",
        "{COMPANY} 's {NAT} {unit|subsidiary} {COMPANY} {will be sold|was fined {MONEY}} .",
        "{COMPANY} {said|announced} on {DAY} that {PERFULL} would become {chairman|chief executive|finance director} in {MONTH} .",
        "Trading in {COMPANY} shares was suspended in {CITY} pending an announcement .",
        "{BANK} cut its forecast for {NAT} growth to {PCT} .",
        "{COMPANY} shares {rose|fell} {PCT} .",
        "{NAT} {COMPANY} {said|announced} it would {buy|sell} {NUM} {PRODUCT} {aircraft|units} .",
        "{COMPANY} {PRICE} {PRICE}",
        "Buyers included {COMPANY} and {BANK} .",
        "{STOCKINDEX} {up|down} {DEC} points .",
        "{COMPANY} , {COMPANY} and {COMPANY} are bidding for the {NYEAR} licence .",
        "Exports to {COUNTRY} and {COUNTRY} account for {PCT} of {NAT} car sales .",
    ],
    "travel": [
        "Flights {from|between} {CITY} {to|and} {CITY} were {cancelled|delayed} {because of|due to} {fog|snow|a strike|heavy rain|a storm} .",
        "{AIRLINE} will open a new route between {CITY_IN} and {CITY} in {MONTH} .",
        "Tourist numbers in {REGION} rose {PCT} last year , led by visitors from {COUNTRY} and {COUNTRY} .",
        "The {RIVER} {burst its banks|flooded} near {CITY} , forcing {BIGNUM} people from their homes .",
        "The {KM} {road|railway|motorway} links {CITY} with the {port|border town|resort} of {CITY} .",
        "Visitors to {CITY} can take a {boat|train|bus} to {CITY} in about {NUM} hours .",
        "Most people in {REGION} speak {LANG} [as well as {LANG}] .",
        "A {NDAY} tour of {COUNTRY} starts in {CITY} and ends in {CITY} .",
        "{CITY} airport was closed for {NUM} hours after {a bomb scare|a power cut|heavy snow|a runway fire} .",
        "Ferries between {CITY} and {CITY} resumed on {DAY} after a {NHOUR} strike .",
        "The {CULTEVENT} in {CITY} attracted {BIGNUM} visitors [this year] .",
        "{CITY} , the capital of {COUNTRY} , has a population of about {BIGNUM} .",
        "{CITY_IN} is {famous|known} for its {wine|beaches|old town|markets|cathedral} .",
        "{COMPANY} runs {NUM} hotels in {COUNTRY} and {COUNTRY} .",
        "Climbers reached the summit of {MOUNT} [in {COUNTRY}] on {DAY} .",
        "Train services between {CITY} and {CITY} were suspended after {a derailment|flooding|a landslide} near {CITY} .",
        "{NAT} tourists spent {MONEY} in {COUNTRY} last year .",
        "Snow closed the main pass between {REGION} and {REGION} [on {DAY}] .",
        "The border crossing at {CITY} reopened after {NUM} days .",
        "A new bridge across the {RIVER} will connect {CITY} and {CITY} by {YEAR} .",
        "{AIRLINE} flight {NUM} from {CITY} landed safely in {CITY} after an engine problem .",
        "Hotels in {CITY} are fully booked for the {SPORTEVENT} .",
        "The {LANG} version of the guide covers {REGION} , {REGION} and the {RIVER} valley .",
    ],
    "science": [
        "Researchers at {UNIV} {said|reported} [on {DAY}] that they had {found|identified|developed} {a new {gene|protein|drug|material}|a way to {detect|treat} {DISEASE}} .",
        "A team led by {PERFULL} of {UNIV} published the {results|findings} in the journal {JOURNAL} .",
        "The {NAT} space agency launched the {PRODUCT} satellite from {LOC} [on {DAY}] .",
        "{PERFULL} , a {physicist|biologist|chemist|geologist|astronomer} at {UNIV} , said the {discovery|result} was {important|surprising|significant} .",
        "The {INTORG} said {BIGNUM} cases of {DISEASE} had been reported in {COUNTRY} [since {MONTH}] .",
        "The {NYEAR} study , funded by {the {INTORG}|{COMPANY}} , followed {BIGNUM} patients in {COUNTRY} and {COUNTRY} .",
        "{PERFULL} and {PERFULL} {shared|won} the {PRIZE} for their work on {TOPIC} .",
        "An earthquake measuring {DEC} hit {REGION} [on {DAY}] , killing {NUM} people .",
        "The {PRODUCT} {software|telescope|probe} was developed by {COMPANY} and {UNIV} .",
        "The {paper|report} , written in {LANG} and {LANG} , has been translated into {NUM} languages .",
        "{UNIV} has {hired|appointed} {PERFULL} as {director|head} of its {new|} {FIELD} {institute|centre|department} .",
        "{NAT} {scientists|researchers|doctors} said the {vaccine|treatment|technique} could be available by {YEAR} .",
        "The {JOURNAL} article said {TOPIC} {could|may} {explain|affect} {TOPIC} .",
        "Scientists from {COUNTRY} , {COUNTRY} and {COUNTRY} will take part in the {NNATION} project .",
        "{PERFULL} , who {led|joined} the {expedition|project} , said temperatures {fell|rose} to {NUM} degrees .",
        "Astronomers at {UNIV} {discovered|observed} a {comet|planet|supernova} [using the {PRODUCT} telescope] .",
        "An outbreak of {DISEASE} in {REGION} has killed {NUM} people , the {MINISTRY} said .",
        "{PERSUR} said more research into {TOPIC} was needed .",
        "The {FIELD} conference in {CITY} drew {BIGNUM} delegates from {NUM} countries .",
    ],
    "general": [
        "{PERFULL} , the {NAT} {novelist|actor|singer|film director|painter|composer} , died in {CITY} on {DAY} aged {AGEN} .",
        "{PERSUR} 's new film , {TITLE} , opens in {CITY} {next week|on {DAY}|in {MONTH}} .",
        "The {LANG} translation of {TITLE} will be published in {MONTH} .",
        "{TITLE} won the top prize at the {CULTEVENT} .",
        "{PERFULL} , {AGEN} , was {arrested|charged|sentenced to {NUM} years} in {CITY} [on {DAY}] [for {fraud|murder|smuggling|theft}] .",
        "A court in {CITY} {fined|acquitted|convicted} {PERFULL} [on {DAY}] .",
        "{PERFULL} will {play|direct|star in} {TITLE} at the {CULTEVENT} .",
        "{RELIG} and {RELIG} leaders met in {CITY} [on {DAY}] to {call for calm|discuss the violence} .",
        "{PER} married {PER} in {CITY} [on {DAY}] .",
        "The {NAT} embassy in {CITY} said {NUM} {NAT} citizens were among the {dead|injured} .",
        "Thousands of {RELIG} pilgrims arrived in {CITY} on {DAY} .",
        "{PERFULL} , a {AGE} {teacher|farmer|student|engineer} from {CITY} , won {MONEY} in the {NAT} lottery .",
        "{PERFULL} ( {NEWSORG} ) contributed to this report .",
        "Fire destroyed the {NSTOREY} {COMPANY} building in {CITY} [on {DAY}] .",
        "{PERFULL} , who speaks {LANG} and {LANG} , will {host|present} the {CULTEVENT} .",
        "{PERFULL} {sang|spoke|performed} at the opening of the {CULTEVENT} [in {MONTH}] .",
        "The {HYPHADJ} writer {PERFULL} won the {PRIZE} [for {TITLE}] .",
    ],
    "noent": [
        "The government said it would review the proposal next month .",
        "Officials declined to comment on the report .",
        "The vote is expected {on {DAY}|later this week|next month} .",
        "It was not immediately clear who was behind the attack .",
        "{Two|Three|Several|Four} people were injured , {police|witnesses|officials} said .",
        "No one claimed responsibility for the attack .",
        "Analysts had expected a profit of {MONEY} .",
        "The company did not give a forecast for {YEAR} .",
        "Volume was {BIGNUM} shares .",
        "Prices were little changed in {early|late|thin} trade .",
        "The second half was goalless .",
        "Play resumes on {DAY} .",
        "Hotel prices have risen sharply this summer .",
        "The museum is open every day except {DAY} .",
        "Tickets cost {NUM} dollars .",
        "The results have not yet been confirmed by other groups .",
        "The experiment will be repeated {next year|in {MONTH}} .",
        "Temperatures fell to minus {NUM} degrees overnight .",
        '" {QUOTE} . "',
        "{QUOTE} , he said .",
        "Prices {may|could} rise again in {MONTH} , traders said .",
        "The talks will resume on {DATE} .",
        "He said the decision was final .",
        "He denied the charges .",
        "Both sides claimed victory .",
        "Nobody was hurt .",
        "Details were not disclosed .",
        "Talks continue .",
        "Halftime : {SCORE}",
        "The dollar was steady .",
        "Weather permitting , the race starts at noon .",
        "There were no reports of casualties .",
        "The apple harvest was poor this year .",
        "Demand for fine china has fallen .",
        "Turnout was {PCT} , the election commission said .",
        "The match ended in a {SCORE} draw .",
        "Inflation {rose|fell} to {PCT} in {MONTH} from {PCT} in {MONTH} .",
        "Shares {rose|fell} {DEC} percent {on {DAY}|in early trading} .",
        "She won in straight sets .",
        "The team has not lost at home since {MONTH} {YEAR} .",
        "Polls open at {NUM} a.m. and close at {NUM} p.m. .",
        "Rescue workers searched for survivors through the night .",
        "Interest rates are expected to remain unchanged .",
        "The bank may raise rates in {MONTH} .",
        "Close the windows when you leave , the notice said .",
        "He is expected to march with the miners on {DAY} .",
        "Turkey prices usually rise before the holidays .",
    ],
}

HEADLINES = {
    "sports": [
        "{soccer|tennis|golf|cricket|athletics|rugby union|cycling|motor racing} - {TEAM} {beat|hold|sink} {TEAM} .",
        "{soccer|basketball|ice hockey} - {NAT} league results .",
        "{tennis|golf|athletics} - {PERSUR} {wins|crashes out|takes lead} [in {CITY}] .",
        "{soccer|rugby union} - {SPORTEVENT} {standings|fixtures|results} .",
    ],
    "politics": [
        "{COUNTRY} {rejects|welcomes|denies} {INTORG} {plan|report|call} .",
        "{PERSUR} {wins|loses} {NAT} election .",
        "{NUM} killed in {CITY} {blast|clashes} .",
    ],
    "business": [
        "{COMPANY} {profit|sales} {up|down} {PCT} .",
        "{COMPANY} to {buy|sell} {COMPANY} {stake|unit} .",
        "{NAT} stocks {close|open} {higher|lower} .",
    ],
    "travel": [
        "{CITY} airport closed by {fog|snow|strike} .",
        "floods hit {REGION} [and {REGION}] .",
    ],
    "science": [
        "{UNIV} team finds new {gene|planet|drug} .",
        "{DISEASE} outbreak in {COUNTRY} .",
    ],
    "general": [
        "{PERFULL} dies at {NUM} .",
        "{TITLE} wins at {CULTEVENT} .",
    ],
}

DOMAIN_WEIGHTS = [("sports", 30), ("politics", 25), ("business", 22), ("travel", 10),
                  ("science", 8), ("general", 5)]
P_NOENT = 0.08

# ---------------------------------------------------------------------------------------
# The template language:  words | {SLOT} | {alt one|alt two|...} | [optional part]
# ---------------------------------------------------------------------------------------

_LEX = re.compile(r"[{}\[\]|]|[^\s{}\[\]|]+")
_SLOT_NAME = re.compile(r"^\^?[A-Z][A-Z_]*$")
_PARSED: dict[str, list] = {}


def parse_template(text: str) -> list:
    if text in _PARSED:
        return _PARSED[text]
    toks = _LEX.findall(text)
    pos = 0

    def seq(stop: tuple[str, ...]) -> list:
        nonlocal pos
        items: list = []
        while pos < len(toks) and toks[pos] not in stop:
            t = toks[pos]
            if t == "[":
                pos += 1
                inner = seq(("]",))
                if pos >= len(toks) or toks[pos] != "]":
                    raise ValueError("unclosed [ in template: %r" % text)
                pos += 1
                items.append(("opt", inner))
            elif t == "{":
                pos += 1
                if pos + 1 < len(toks) and _SLOT_NAME.match(toks[pos]) and toks[pos + 1] == "}":
                    name = toks[pos].lstrip("^")
                    if name not in SLOTS and name not in SUBGRAMMARS:
                        raise ValueError("unknown slot %r in template: %r" % (name, text))
                    items.append(("slot", toks[pos]))
                    pos += 2
                    continue
                alts = [seq(("|", "}"))]
                while pos < len(toks) and toks[pos] == "|":
                    pos += 1
                    alts.append(seq(("|", "}")))
                if pos >= len(toks) or toks[pos] != "}":
                    raise ValueError("unclosed { in template: %r" % text)
                pos += 1
                items.append(("alt", alts))
            elif t in ("}", "]", "|"):
                raise ValueError("unexpected %r in template: %r" % (t, text))
            else:
                items.append(("lit", t))
                pos += 1
        return items

    result = seq(())
    _PARSED[text] = result
    return result


def expand(items: list, c: Ctx) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for kind, val in items:
        if kind == "lit":
            out.append((val, "O"))
        elif kind == "opt":
            if c.rng.random() < 0.5:
                out.extend(expand(val, c))
        elif kind == "alt":
            out.extend(expand(c.rng.choice(val), c))
        else:
            upper = val.startswith("^")
            name = val.lstrip("^")
            if name in SUBGRAMMARS:
                part = expand(parse_template(c.rng.choice(SUBGRAMMARS[name])), c)
            else:
                part = SLOTS[name](c)
            if upper:
                part = [(t.upper(), g) for t, g in part]
            out.extend(part)
    return out


def render(text: str, c: Ctx) -> list[tuple[str, str]]:
    return expand(parse_template(text), c)


def validate_templates() -> None:
    for group in list(DOMAINS.values()) + list(SUBGRAMMARS.values()) + list(HEADLINES.values()):
        for t in group:
            parse_template(t)


# ---------------------------------------------------------------------------------------
# Sentences and documents
# ---------------------------------------------------------------------------------------

_LOWERABLE = {"the", "a", "an", "shares", "police", "flights", "officials", "researchers",
              "prices", "tourist", "about", "he", "she", "there", "trading", "inflation",
              "oil", "analysts", "voters", "talks", "scorers", "results", "visitors",
              "ferries", "train", "snow", "sales", "rain", "climbers", "scientists",
              "astronomers", "fire", "thousands", "hotels", "exports", "opinion", "rescue",
              "volume", "tickets", "interest", "play", "no", "it", "turnout", "polls",
              "leading", "temperatures", "demand"}


def _lower_first(tokens: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if tokens and tokens[0][1] == "O" and tokens[0][0].lower() in _LOWERABLE:
        return [(tokens[0][0].lower(), "O")] + tokens[1:]
    return tokens


def _weighted(rng: random.Random, pairs) -> str:
    total = sum(w for _, w in pairs)
    x = rng.random() * total
    for name, w in pairs:
        x -= w
        if x < 0:
            return name
    return pairs[-1][0]


def _clause(c: Ctx, domain: str) -> list[tuple[str, str]]:
    if c.chance(P_NOENT):
        return render(c.rng.choice(DOMAINS["noent"]), c)
    if not c.chance(0.75):
        domain = _weighted(c.rng, DOMAIN_WEIGHTS)
    s = render(c.rng.choice(DOMAINS[domain]), c)
    if c.chance(P_TAIL) and s[-1] == (".", "O") and s[0][0] != '"':
        s = s[:-1] + render(c.rng.choice(SUBGRAMMARS["TAIL"]), c) + [(".", "O")]
    return s


def _joinable(s: list[tuple[str, str]]) -> bool:
    return s[-1] == (".", "O") and s[0][0] != '"' and s[-2][0] != '"'


def make_sentence(c: Ctx, domain: str) -> list[tuple[str, str]]:
    for _ in range(100):
        s = _clause(c, domain)
        n_more = 2 if c.chance(P_JOIN3) else (1 if c.chance(P_JOIN) else 0)
        for _ in range(n_more):
            nxt = _clause(c, domain)
            if not (_joinable(s) and _joinable(nxt)):
                break
            conj = c.rng.choice([[","], [",", "while"], [",", "but"], [";"], [",", "and"]])
            s = s[:-1] + [(w, "O") for w in conj] + _lower_first(nxt)
        r = c.rng.random()
        if r < P_UPPER:
            s = [(t.upper(), g) for t, g in s]
        elif r < P_UPPER + P_LOWER:
            s = [(t.lower(), g) for t, g in s]
        if MIN_LEN <= len(s) <= MAX_LEN:
            return s
    raise RuntimeError("could not produce a sentence of acceptable length")


def make_headline(c: Ctx, domain: str) -> list[tuple[str, str]]:
    while True:
        s = render(c.rng.choice(HEADLINES[domain]), c)
        if MIN_LEN <= len(s) <= MAX_LEN:
            return [(t.upper(), g) for t, g in s]


def generate_split(n_sentences: int, seed: int, private: dict[str, list]) -> list[list]:
    """A list of documents, each a list of sentences (lists of (token, tag))."""
    rng = random.Random(seed)
    c = Ctx(rng, private)
    docs: list[list] = []
    produced = 0
    while produced < n_sentences:
        size = min(rng.randint(DOC_MIN, DOC_MAX), n_sentences - produced)
        domain = _weighted(rng, DOMAIN_WEIGHTS)
        doc: list = []
        if size >= 3 and c.chance(0.5):
            doc.append(make_headline(c, domain))
        if len(doc) < size and c.chance(0.7):
            doc.append(SLOTS["DATELINE"](c))
        while len(doc) < size:
            doc.append(make_sentence(c, domain))
        docs.append(doc)
        produced += len(doc)
    return docs


def format_conll(docs: list[list]) -> str:
    lines: list[str] = []
    for doc in docs:
        lines.append("-DOCSTART- O")
        lines.append("")
        for sent in doc:
            for tok, tag in sent:
                if not tok or any(ch.isspace() for ch in tok):
                    raise ValueError("bad token %r" % tok)
                lines.append("%s %s" % (tok, tag))
            lines.append("")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------


def entity_spans(sent: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(type, surface) for each entity in an IOB2-tagged sentence."""
    spans: list[tuple[str, str]] = []
    cur_type, cur_toks = None, []
    for tok, tag in sent + [("", "O")]:
        if tag.startswith("I-") and cur_type == tag[2:]:
            cur_toks.append(tok)
            continue
        if cur_type is not None:
            spans.append((cur_type, " ".join(cur_toks)))
        cur_type, cur_toks = (tag[2:], [tok]) if tag != "O" else (None, [])
    return spans


def compute_stats(split_docs: dict[str, list]) -> dict[str, dict]:
    stats: dict[str, dict] = {}
    train_surfaces: set[str] = set()
    for split, _ in SPLITS:
        sents = [s for doc in split_docs[split] for s in doc]
        types: Counter = Counter()
        mentions: list[str] = []
        for s in sents:
            for typ, surface in entity_spans(s):
                types[typ] += 1
                mentions.append(surface)
        st = {
            "documents": len(split_docs[split]), "sentences": len(sents),
            "tokens": sum(len(s) for s in sents), "entities": dict(sorted(types.items())),
            "no_entity_sentences": sum(1 for s in sents if all(g == "O" for _, g in s)),
            "max_len": max(len(s) for s in sents), "min_len": min(len(s) for s in sents),
        }
        if split == "train":
            train_surfaces = set(mentions)
        else:
            unseen = sum(1 for m in mentions if m not in train_surfaces)
            st["unseen_fraction"] = unseen / len(mentions) if mentions else 0.0
        stats[split] = st
    return stats


def format_stats(stats: dict[str, dict]) -> str:
    out = []
    for split, st in stats.items():
        ents = " ".join("%s=%d" % kv for kv in st["entities"].items())
        line = ("%-5s docs=%d sentences=%d tokens=%d avg_len=%.1f len=%d..%d no_entity=%d  %s"
                % (split, st["documents"], st["sentences"], st["tokens"],
                   st["tokens"] / st["sentences"], st["min_len"], st["max_len"],
                   st["no_entity_sentences"], ents))
        if "unseen_fraction" in st:
            line += "  unseen_in_train=%.3f" % st["unseen_fraction"]
        out.append(line)
    return "\n".join(out)


# ---------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------


def generate(out_dir: str) -> dict[str, dict]:
    """Write the three sample files into ``out_dir``; return their statistics."""
    validate_templates()
    private = build_private_pools(SEED)
    split_docs = {}
    for si, (split, n) in enumerate(SPLITS):
        split_docs[split] = generate_split(n, SEED + 1000 * (si + 1), private[split])
    os.makedirs(out_dir, exist_ok=True)
    for split, _ in SPLITS:
        path = os.path.join(out_dir, FILE_PATTERN.format(split=split))
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(format_conll(split_docs[split]))
    return compute_stats(split_docs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", default=os.path.dirname(os.path.abspath(__file__)),
                        help="directory to write sample.{train,dev,test}.conll (default: data/)")
    args = parser.parse_args(argv)
    stats = generate(args.out_dir)
    print(format_stats(stats), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
