#!/usr/bin/env python3
"""Derive datasets/codelists/{countries,regions,country_aliases}.csv and
datasets/reference/population.csv from the public reference tables in
SRC (default ../shared/data relative to the repository root).

Usage: python3 datasets/derive.py [SRC] [DATASETS_DIR]

The small code tables (indicators, sex, age, forms) are written by hand and
are not touched.  Output: UTF-8, LF, RFC 4180 quoting (only where needed),
M49 codes as zero-padded text.  See datasets/PROVENANCE.md.
"""
import csv
import io
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '..', '..', 'shared', 'data')
OUT = sys.argv[2] if len(sys.argv) > 2 else HERE

# UNODC usage differs from UNSD 2020 for one name.
UNODC_NAME = {'TUR': 'Türkiye'}

# Extra accepted spellings: common English short names, and the
# non-English names used by the bundled national layouts (German:
# datasets/mappings/de_case.map citizenship and reporting state; Spanish:
# es_case.map reporting country) plus common French/Spanish/German names.
EXTRA_ALIASES = [
    # common English short names and former names
    ('USA', 'USA'), ('United States', 'USA'), ('United States of America', 'USA'),
    ('US', 'USA'), ('U.S.', 'USA'), ('U.S.A.', 'USA'),
    ('UK', 'GBR'), ('United Kingdom', 'GBR'), ('Great Britain', 'GBR'), ('Britain', 'GBR'),
    ('Russia', 'RUS'), ('Vietnam', 'VNM'), ('Ivory Coast', 'CIV'), ("Cote d'Ivoire", 'CIV'),
    ("Côte d'Ivoire", 'CIV'), ('Bolivia', 'BOL'), ('Iran', 'IRN'), ('Syria', 'SYR'),
    ('Tanzania', 'TZA'), ('Venezuela', 'VEN'), ('Moldova', 'MDA'), ('Laos', 'LAO'),
    ('Lao PDR', 'LAO'), ('South Korea', 'KOR'), ('Korea, South', 'KOR'),
    ('North Korea', 'PRK'), ('Korea, North', 'PRK'), ('Czechia', 'CZE'),
    ('Czech Republic', 'CZE'), ('Turkey', 'TUR'), ('Turkiye', 'TUR'),
    ('Macedonia', 'MKD'), ('Macedonia, the former Yugoslav Republic of', 'MKD'),
    ('Swaziland', 'SWZ'), ('Cape Verde', 'CPV'), ('Burma', 'MMR'), ('East Timor', 'TLS'),
    ('DR Congo', 'COD'), ('DRC', 'COD'), ('Democratic Republic of Congo', 'COD'),
    ('Congo-Kinshasa', 'COD'), ('Congo-Brazzaville', 'COG'), ('Republic of the Congo', 'COG'),
    ('Palestine', 'PSE'), ('Vatican', 'VAT'), ('Vatican City', 'VAT'), ('Holy See (Vatican City State)', 'VAT'),
    ('Micronesia, Federated States of', 'FSM'), ('Federated States of Micronesia', 'FSM'),
    ('Brunei', 'BRN'), ('Hong Kong', 'HKG'), ('Macau', 'MAC'), ('Macao', 'MAC'),
    ('The Gambia', 'GMB'), ('Gambia, The', 'GMB'), ('The Bahamas', 'BHS'), ('Bahamas, The', 'BHS'),
    ('Netherlands, The', 'NLD'), ('The Netherlands', 'NLD'), ('Holland', 'NLD'),
    ('Sao Tome and Principe', 'STP'), ('Curacao', 'CUW'), ('Reunion', 'REU'),
    ('Saint Barthelemy', 'BLM'), ('Aland Islands', 'ALA'),
    ('St. Kitts and Nevis', 'KNA'), ('St. Lucia', 'LCA'), ('St. Vincent and the Grenadines', 'VCT'),
    ('Egypt, Arab Rep.', 'EGY'), ('Iran, Islamic Rep.', 'IRN'), ('Korea, Rep.', 'KOR'),
    ("Korea, Dem. People's Rep.", 'PRK'), ('Kyrgyz Republic', 'KGZ'), ('Slovak Republic', 'SVK'),
    ('Yemen, Rep.', 'YEM'), ('Venezuela, RB', 'VEN'), ('Lao People’s Democratic Republic', 'LAO'),
    ('UAE', 'ARE'), ('Emirates', 'ARE'),
    # German (de_case layout)
    ('Deutschland', 'DEU'), ('Österreich', 'AUT'), ('Schweiz', 'CHE'), ('Luxemburg', 'LUX'),
    ('Frankreich', 'FRA'), ('Italien', 'ITA'), ('Belgien', 'BEL'), ('Niederlande', 'NLD'),
    ('Rumänien', 'ROU'), ('Bulgarien', 'BGR'), ('Ungarn', 'HUN'), ('Polen', 'POL'),
    ('Slowakei', 'SVK'), ('Tschechien', 'CZE'), ('Tschechische Republik', 'CZE'),
    ('Serbien', 'SRB'), ('Albanien', 'ALB'), ('Republik Moldau', 'MDA'), ('Moldau', 'MDA'),
    ('Spanien', 'ESP'), ('Griechenland', 'GRC'), ('Kroatien', 'HRV'), ('Slowenien', 'SVN'),
    ('Bosnien und Herzegowina', 'BIH'), ('Nordmazedonien', 'MKD'), ('Russland', 'RUS'),
    ('Russische Föderation', 'RUS'), ('Weißrussland', 'BLR'), ('Belarus', 'BLR'),
    ('Türkei', 'TUR'), ('Marokko', 'MAR'), ('Ägypten', 'EGY'), ('Kamerun', 'CMR'),
    ('Äthiopien', 'ETH'), ('Brasilien', 'BRA'), ('Dominikanische Republik', 'DOM'),
    ('Kolumbien', 'COL'), ('Indien', 'IND'), ('Syrien', 'SYR'), ('Irak', 'IRQ'),
    ('Philippinen', 'PHL'), ('Mongolei', 'MNG'), ('Georgien', 'GEO'), ('Litauen', 'LTU'),
    ('Lettland', 'LVA'), ('Großbritannien', 'GBR'), ('Vereinigtes Königreich', 'GBR'),
    ('Vereinigte Staaten', 'USA'), ('Kirgisistan', 'KGZ'), ('Usbekistan', 'UZB'),
    ('Kasachstan', 'KAZ'),
    # French
    ('Allemagne', 'DEU'), ('Autriche', 'AUT'), ('Suisse', 'CHE'), ('Belgique', 'BEL'),
    ('Roumanie', 'ROU'), ('Bulgarie', 'BGR'), ('Hongrie', 'HUN'), ('Pologne', 'POL'),
    ('Nigéria', 'NGA'), ('Maroc', 'MAR'), ('Algérie', 'DZA'), ('Tunisie', 'TUN'),
    ('Égypte', 'EGY'), ('Sénégal', 'SEN'), ('Cameroun', 'CMR'), ('Guinée', 'GIN'),
    ('Chine', 'CHN'), ('Inde', 'IND'), ('Brésil', 'BRA'), ('Espagne', 'ESP'),
    ('Italie', 'ITA'), ('Royaume-Uni', 'GBR'), ('États-Unis', 'USA'), ('Pays-Bas', 'NLD'),
    ('Albanie', 'ALB'), ('Moldavie', 'MDA'), ('Ukraine', 'UKR'), ('Thaïlande', 'THA'),
    ('Viêt Nam', 'VNM'), ('Colombie', 'COL'), ('Pérou', 'PER'), ('Haïti', 'HTI'),
    ('Côte-d’Ivoire', 'CIV'),
    # Spanish (es_case layout)
    ('Alemania', 'DEU'), ('Perú', 'PER'), ('España', 'ESP'), ('Rumania', 'ROU'),
    ('Estados Unidos', 'USA'), ('Brasil', 'BRA'), ('México', 'MEX'), ('Panamá', 'PAN'),
    ('República Dominicana', 'DOM'), ('Haití', 'HTI'), ('Francia', 'FRA'), ('Italia', 'ITA'),
    ('Reino Unido', 'GBR'), ('Marruecos', 'MAR'), ('Egipto', 'EGY'), ('Filipinas', 'PHL'),
    ('Tailandia', 'THA'), ('Japón', 'JPN'), ('Rusia', 'RUS'), ('Ucrania', 'UKR'),
    ('Suiza', 'CHE'), ('Bélgica', 'BEL'), ('Países Bajos', 'NLD'),
]


def text_norm(s):
    """core/text.c text_norm(): trim, collapse white space, lower-case
    ASCII and the Latin-1 capitals U+00C0..U+00DE except U+00D7."""
    out = []
    for ch in s:
        o = ord(ch)
        if 'A' <= ch <= 'Z' or (0xC0 <= o <= 0xDE and o != 0xD7):
            ch = chr(o + 32)
        out.append(ch)
    return ' '.join(''.join(out).split())


def write_csv(path, header, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator='\n', quoting=csv.QUOTE_MINIMAL)
    w.writerow(header)
    for r in rows:
        w.writerow(r)
    with open(path, 'w', encoding='utf-8', newline='') as f:
        f.write(buf.getvalue())


def main():
    with open(os.path.join(SRC, 'm49_unsd_2020.csv'), encoding='utf-8', newline='') as f:
        m49 = list(csv.DictReader(f))
    with open(os.path.join(SRC, 'iso3166_regions_lukes.csv'), encoding='utf-8', newline='') as f:
        lukes = {r['alpha-3']: r for r in csv.DictReader(f)}

    countries, regions, subregions = [], {}, {}
    for r in m49:
        iso3 = r['ISO-alpha3 Code']
        if not iso3:            # Sark: no ISO code
            continue
        if not r['Region Code']:  # Antarctica: no M49 region
            continue
        iso2 = lukes[iso3]['alpha-2']   # the string "NA" for Namibia, kept as is
        name = UNODC_NAME.get(iso3, r['Country or Area'])
        regions[r['Region Code']] = r['Region Name']
        subregions[r['Sub-region Code']] = (r['Sub-region Name'], r['Region Code'])
        countries.append((iso3, iso2, r['M49 Code'], name, r['Region Code'],
                          r['Sub-region Code']))
    countries.sort()
    write_csv(os.path.join(OUT, 'codelists', 'countries.csv'),
              ['iso3', 'iso2', 'm49', 'name', 'region_code', 'subregion_code'], countries)

    rrows = [('001', 'World', 'world', '')]
    for code in sorted(regions):
        rrows.append((code, regions[code], 'region', '001'))
    for code in sorted(subregions, key=lambda c: (subregions[c][1], c)):
        rrows.append((code, subregions[code][0], 'subregion', subregions[code][1]))
    write_csv(os.path.join(OUT, 'codelists', 'regions.csv'),
              ['code', 'name', 'kind', 'parent'], rrows)

    # every spelling the loader indexes, to refuse an alias that is taken
    taken = {}
    for c in countries:
        for s in (c[0], c[1], c[2], c[3]):
            if s:
                taken.setdefault(text_norm(s), c[0])
    iso3s = {c[0] for c in countries}
    aliases = []

    def add(alias, iso3):
        assert iso3 in iso3s, (alias, iso3)
        k = text_norm(alias)
        if k in taken:
            if taken[k] != iso3:
                raise SystemExit('alias %r maps to %s and %s' % (alias, taken[k], iso3))
            return          # already accepted for this country
        taken[k] = iso3
        aliases.append((alias, iso3))

    for c in countries:
        add(lukes[c[0]]['name'], c[0])          # ISO style names
        m = next(r for r in m49 if r['ISO-alpha3 Code'] == c[0])
        add(m['Country or Area'], c[0])        # UNSD 2020 name (Turkey)
    for alias, iso3 in EXTRA_ALIASES:
        add(alias, iso3)
    write_csv(os.path.join(OUT, 'codelists', 'country_aliases.csv'), ['alias', 'iso3'], aliases)

    prow = []
    with open(os.path.join(SRC, 'population_worldbank.csv'), encoding='utf-8', newline='') as f:
        for r in csv.DictReader(f):
            y = int(r['Year'])
            if r['Country Code'] in iso3s and 2015 <= y <= 2024:
                v = r['Value'].strip()
                assert v.isdigit(), r
                prow.append((r['Country Code'], y, int(v)))
    prow.sort()
    write_csv(os.path.join(OUT, 'reference', 'population.csv'), ['iso3', 'year', 'population'], prow)
    have = {p[0] for p in prow}
    print('countries', len(countries), 'aliases', len(aliases), 'population rows', len(prow),
          'countries with population', len(have))
    print('without population:', ' '.join(sorted(iso3s - have)))
    years = {}
    for p in prow:
        years.setdefault(p[0], set()).add(p[1])
    print('incomplete years:', {k: sorted(v) for k, v in years.items() if len(v) != 10})


main()
