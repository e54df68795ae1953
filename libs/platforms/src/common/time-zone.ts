/**
 * The customer's IANA time zone from a postal address (see docs/rfc/0010-customer-time-zone.md).
 * Data from two libraries, no hand table: `city-timezones` (≈7,300 cities with country, province /
 * US state code, coordinates, population and zone) and `countries-and-timezones` (each country's
 * zones with their offsets). In order:
 *
 * 1. coordinates (when the platform sends them): the zone of the nearest listed city of the country;
 * 2. the city by name (within the region when one is given);
 * 3. the region (US state code, or province name): the zone of its most populous listed city;
 * 4. the country alone, when all of its zones keep the same offsets (e.g. DE, FR, GB);
 * 5. otherwise unknown (a multi-zone country without a usable region): the shop's zone is used.
 *
 * Only the resulting zone is kept (on the cart / customer event), never the address itself.
 */
import cityTimezones from 'city-timezones';
import { getAllCountries, getCountry, getTimezone } from 'countries-and-timezones';

export interface AddressPlace {
  /** ISO 3166-1 alpha-2 (`US`), or the country's English name. */
  readonly country?: string;
  /** State / province code (`KY`, `ON`) or name (`Kentucky`). */
  readonly region?: string;
  readonly regionName?: string;
  readonly city?: string;
  readonly latitude?: number;
  readonly longitude?: number;
}

type City = (typeof cityTimezones.cityMapping)[number];

/** A listed city with its names and region names folded once, when the country's list is first built. */
interface Listed {
  readonly city: City;
  /** `state_ansi`, `province`, `exactProvince`, folded. */
  readonly regions: readonly string[];
  /** `city`, `city_ascii`, `exactCity`, folded (empty ones kept, as the look-up always compared them). */
  readonly names: readonly string[];
}

let byCountry: Map<string, Listed[]> | undefined;
let countryByName: Map<string, string> | undefined;

const fold = (s: string): string =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .trim()
    .toLowerCase();

const folded = (values: readonly unknown[]): string[] =>
  values.filter((v): v is string => typeof v === 'string' && v !== '').map(fold);

function citiesOf(iso2: string): readonly Listed[] {
  if (byCountry === undefined) {
    byCountry = new Map();
    for (const c of cityTimezones.cityMapping) {
      if (typeof c.iso2 !== 'string' || typeof c.timezone !== 'string') continue;
      const list = byCountry.get(c.iso2.toUpperCase()) ?? [];
      list.push({
        city: c,
        regions: folded([c.state_ansi, c.province, c.exactProvince]),
        names: [c.city, c.city_ascii, c.exactCity].filter((n): n is string => typeof n === 'string').map(fold),
      });
      byCountry.set(c.iso2.toUpperCase(), list);
    }
    // Most populous first: a region's or a country's zone is its largest city's.
    for (const list of byCountry.values()) list.sort((a, b) => (b.city.pop ?? 0) - (a.city.pop ?? 0));
  }
  return byCountry.get(iso2) ?? [];
}

function countryCode(country: string | undefined): string | undefined {
  if (country === undefined || country.trim() === '') return undefined;
  const t = country.trim();
  if (/^[A-Za-z]{2}$/.test(t)) return getCountry(t.toUpperCase()) !== null ? t.toUpperCase() : undefined;
  if (countryByName === undefined) {
    countryByName = new Map(Object.values(getAllCountries()).map((c) => [fold(c.name), c.id]));
    for (const c of cityTimezones.cityMapping) {
      if (typeof c.country === 'string' && typeof c.iso2 === 'string') countryByName.set(fold(c.country), c.iso2);
    }
    // The short forms platforms print for the two names the data spell out in full.
    countryByName.set('united states', 'US');
    countryByName.set('usa', 'US');
    countryByName.set('uk', 'GB');
  }
  return countryByName.get(fold(t));
}

/**
 * Whether this runtime's ICU knows the zone. The answer is kept: building an `Intl.DateTimeFormat`
 * costs more than the rest of the look-up. The zones asked about come from the two libraries' data
 * (a few hundred names, never from a payload); the cap only guards against that changing.
 */
const knownZones = new Map<string, boolean>();
const KNOWN_ZONES_CAP = 2048;

function isZone(zone: string | undefined): zone is string {
  if (zone === undefined || zone === '') return false;
  const known = knownZones.get(zone);
  if (known !== undefined) return known;
  let ok: boolean;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    ok = true;
  } catch {
    ok = false;
  }
  if (knownZones.size < KNOWN_ZONES_CAP) knownZones.set(zone, ok);
  return ok;
}

function nearest(cities: readonly Listed[], lat: number, lng: number): City | undefined {
  const rad = Math.PI / 180;
  let best: City | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const { city: c } of cities) {
    const dLat = (c.lat - lat) * rad;
    const dLng = (c.lng - lng) * rad;
    const h = Math.sin(dLat / 2) ** 2 + Math.cos(lat * rad) * Math.cos(c.lat * rad) * Math.sin(dLng / 2) ** 2;
    if (h < bestD) {
      bestD = h;
      best = c;
    }
  }
  return best;
}

/** Per country (a few hundred at most): whether all its zones keep the same offsets. */
const singleOffset = new Map<string, boolean>();

/** True when every zone of the country keeps the same standard and summer offsets. */
function singleOffsetCountry(iso2: string): boolean {
  const known = singleOffset.get(iso2);
  if (known !== undefined) return known;
  const zones = getCountry(iso2)?.timezones ?? [];
  const offsets = new Set(
    zones.map((z) => getTimezone(z)).flatMap((z) => (z === null ? [] : [`${z.utcOffset}/${z.dstOffset}`])),
  );
  singleOffset.set(iso2, offsets.size === 1);
  return offsets.size === 1;
}

/** The IANA zone of an address, or undefined when it cannot be told (the shop's zone applies then). */
export function timeZoneOfAddress(place: AddressPlace | undefined): string | undefined {
  if (place === undefined) return undefined;
  const iso2 = countryCode(place.country);
  if (iso2 === undefined) return undefined;
  const cities = citiesOf(iso2);
  const { latitude: lat, longitude: lng } = place;
  if (
    lat !== undefined &&
    lng !== undefined &&
    Number.isFinite(lat) &&
    Number.isFinite(lng) &&
    (lat !== 0 || lng !== 0)
  ) {
    const near = nearest(cities, lat, lng);
    if (isZone(near?.timezone)) return near.timezone;
  }
  const regionNames = folded([place.region, place.regionName].map((r) => r?.trim()));
  const region = regionNames.length === 0 ? [] : cities.filter((c) => regionNames.some((n) => c.regions.includes(n)));
  if (place.city !== undefined && place.city.trim() !== '') {
    const name = fold(place.city);
    const pool = region.length > 0 ? region : cities;
    const city = pool.find((c) => c.names.includes(name))?.city;
    if (isZone(city?.timezone)) return city.timezone;
  }
  if (isZone(region[0]?.city.timezone)) return region[0].city.timezone;
  if (singleOffsetCountry(iso2)) {
    const zone = cities[0]?.city.timezone ?? getCountry(iso2)?.timezones[0];
    if (isZone(zone)) return zone;
  }
  return undefined;
}
