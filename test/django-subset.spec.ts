import { renderDjangoSubset } from './support/django-subset';

describe('the Klaviyo template subset renderer used by the template-mode test', () => {
  it('renders variables (escaped), defaults, if/else with ==, and for loops', () => {
    const out = renderDjangoSubset(`{% if event.n == 2 %}two{% else %}other{% endif %}|{{ person.name|default:'x' }}`, {
      event: { n: 2 },
      person: {},
    });
    expect(out).toBe('two|x');
    expect(
      renderDjangoSubset("{% for i in event.items %}[{{ i.t }}]{% endfor %}{{ p.x|default:'none' }}", {
        event: { items: [{ t: 'a<b' }, { t: 'c' }] },
      }),
    ).toBe('[a&lt;b][c]none');
    expect(renderDjangoSubset('{% if event.d %}code {{ event.d.code }}{% endif %}', { event: { d: null } })).toBe('');
  });

  it('refuses what it does not implement instead of rendering it wrongly', () => {
    expect(() => renderDjangoSubset('{{ event.x|upper }}', {})).toThrow(/unsupported variable/);
    expect(() => renderDjangoSubset('{% unsubscribe %}', {})).toThrow(/unsupported tag/);
    expect(() => renderDjangoSubset('{% if a %}open', {})).toThrow(/unclosed/);
    expect(() => renderDjangoSubset('{% endfor %}', {})).toThrow(/unexpected/);
  });
});
